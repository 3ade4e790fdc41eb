"""Keys: every public response names what it shows, and the page cache purges by them.

How a purge reaches the pages is tested here at the cache's edges (a warm hit's round
trips, a token or the marker lost, a purge during a render, an outage at commit); which
keys each kind of change purges is tested page by page in ``test_purges.py``.
"""

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from taggit.models import Tag

from companies.models import Company
from config.celery import app as celery_app
from reader import keys, page_cache
from reader.models import PagePurge
from reader.page_cache import KEYS_HEADER, PageCacheMiddleware, add_keys, purge
from reader.purges import retry_pending_purges
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, StoryFactory, ThemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    netflix = CompanyFactory(name="Netflix", slug="netflix")
    theme = ThemeFactory(name="Data planes", slug="data-planes")
    first = IssueFactory(published=True, title="First issue")
    second = IssueFactory(published=True, title="Second issue")
    PlacementFactory(issue=first, story__companies=[netflix])
    story = PlacementFactory(issue=second, story__companies=[netflix], story__themes=[theme]).story
    story.tags.add("envoy")
    PagePurge.objects.all().delete()  # the purges of making the site: a test never commits them
    return {"first": first, "second": second, "netflix": netflix, "theme": theme, "tag": Tag.objects.get(name="envoy")}


def header(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response[KEYS_HEADER].split()


def test_every_public_response_names_the_keys_of_what_it_shows(client, site):
    first, second = site["first"], site["second"]
    netflix, theme, tag = site["netflix"], site["theme"], site["tag"]
    shown = {
        # An issue's page, and the link to each neighbour whose title it shows.
        second.get_absolute_url(): {f"issue-{second.pk}", f"issue-link-{first.pk}"},
        first.get_absolute_url(): {f"issue-{first.pk}", f"issue-link-{second.pk}"},
        "/": {"issues", f"issue-{second.pk}", f"issue-link-{first.pk}"},
        "/issues/": {"issues"},
        "/feed/": {"issues"},
        "/feed/atom/": {"issues"},
        "/companies/": {"companies"},
        "/companies/?letter=N": {"companies"},
        "/companies/netflix/": {f"company-{netflix.pk}"},
        "/companies/netflix/feed/": {f"company-{netflix.pk}"},
        "/themes/data-planes/": {f"theme-{theme.pk}"},
        "/themes/data-planes/feed/atom/": {f"theme-{theme.pk}"},
        "/tags/envoy/": {f"tag-{tag.pk}"},
        "/sitemap.xml": {"issues", "companies", "themes", "tags"},
    }
    for url, expected in shown.items():
        assert set(header(client, url)) == expected, url
        assert set(header(client, url)) == expected, f"{url}, from the cache"


def test_the_pdf_edition_names_its_issue(client, site):
    issue = site["second"]
    issue.pdf.save("edition.pdf", ContentFile(b"%PDF-1.4 a stand-in for the edition"), save=False)
    issue.pdf_content_hash, issue.pdf_rendered_at = "0" * 64, timezone.now()
    issue.save()
    response = client.get(issue.get_absolute_url().rstrip("/") + ".pdf")
    assert response.status_code == 200 and response[KEYS_HEADER] == f"issue-{issue.pk}"


def test_a_company_page_names_the_parent_and_subsidiaries_it_shows(client, site):
    parent, netflix = CompanyFactory(slug="parent-co"), site["netflix"]
    netflix.parent = parent
    netflix.save()
    PlacementFactory(issue=site["first"], story__companies=[parent])
    assert set(header(client, "/companies/parent-co/")) == {f"company-{parent.pk}", f"company-{netflix.pk}"}
    assert set(header(client, "/companies/netflix/")) == {f"company-{netflix.pk}", f"company-{parent.pk}"}


def test_the_largest_issue_page_keeps_a_small_header(client):
    """Forty stories of twenty tags and five companies each: the header names issues, not topics."""
    companies = [CompanyFactory() for _ in range(5)]
    issue = IssueFactory(published=True)
    for n in range(40):
        story = PlacementFactory(issue=issue, position=n, story__companies=companies).story
        story.tags.add(*(f"tag-{n}-{t}" for t in range(20)))
    for _ in range(2):
        IssueFactory(published=True)  # a neighbour after it
    response = client.get(issue.get_absolute_url())
    assert response.status_code == 200
    assert len(response[KEYS_HEADER]) < 100  # Varnish's default cap on a whole header block is 8 KB
    assert len(header(client, "/sitemap.xml")) == len(keys.LISTS)


class CountingCache:
    """Counts the calls to the cache, each one round trip to Redis."""

    def __init__(self, monkeypatch):
        self.calls = []
        for name in ("get", "get_many", "set", "set_many", "add", "delete", "delete_many"):
            monkeypatch.setattr(page_cache.cache, name, self._counted(name, getattr(page_cache.cache, name)))

    def _counted(self, name, method):
        def counted(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


def test_a_warm_page_costs_one_round_trip_and_no_query(
    client, site, monkeypatch, django_assert_num_queries, cache_redis
):
    # Round trips are Redis's: the quick start's file cache reads each key of a get_many alone.
    url = site["second"].get_absolute_url()
    client.get(url)
    counting = CountingCache(monkeypatch)
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    assert counting.calls == ["get_many"]


def test_after_an_unrelated_purge_a_page_checks_its_tokens_once(
    client, site, monkeypatch, django_assert_num_queries, cache_redis
):
    url = "/companies/netflix/"
    client.get(url)
    purge(["company-999999"])  # nothing this page shows
    counting = CountingCache(monkeypatch)
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    assert counting.calls == ["get_many", "get_many", "set"]  # the page, its tokens, stamped anew
    counting.calls.clear()
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    assert counting.calls == ["get_many"]


def rename_quietly(company, name):
    """Change what the page shows without the signals, so only the test's own purge tells the cache."""
    Company.objects.filter(pk=company.pk).update(name=name)


def test_a_purged_key_whose_token_was_evicted_never_lets_the_old_page_through(client, site, cache_redis):
    netflix = site["netflix"]
    assert "Netflix" in client.get("/companies/netflix/").content.decode()
    rename_quietly(netflix, "Netflix, renamed")
    purge([keys.company_key(netflix.pk)])
    cache.delete(f"reader:key:{keys.company_key(netflix.pk)}")  # evicted: the purge is forgotten
    # Another page filed under the same key is stored meanwhile: it makes the token anew.
    assert "Netflix, renamed" in client.get("/companies/netflix/feed/").content.decode()
    assert "Netflix, renamed" in client.get("/companies/netflix/").content.decode()


def test_a_lost_purge_marker_makes_pages_check_their_tokens(client, site, django_assert_num_queries):
    netflix = site["netflix"]
    client.get("/companies/netflix/")
    client.get("/issues/")
    rename_quietly(netflix, "Netflix, renamed")
    purge([keys.company_key(netflix.pk)])
    cache.delete(page_cache.PURGES_MARKER)  # evicted after the purge
    assert "Netflix, renamed" in client.get("/companies/netflix/").content.decode()
    with django_assert_num_queries(0):
        assert client.get("/issues/").status_code == 200  # its tokens say it is current


def test_a_page_whose_key_is_purged_while_it_renders_is_not_stored():
    request_factory, key = RequestFactory(), "company-1"

    def render_during_a_purge(request):
        add_keys(request, key)
        page = HttpResponse("shows what the purge dropped")
        purge([key])  # the change committed and was purged after the view read the database
        return page

    middleware = PageCacheMiddleware(render_during_a_purge)
    assert middleware(request_factory.get("/companies/")).content == b"shows what the purge dropped"
    fresh = PageCacheMiddleware(lambda request: HttpResponse("current"))(request_factory.get("/companies/"))
    assert fresh.content == b"current"


def test_a_purge_the_cache_refuses_is_kept_and_retried_until_it_succeeds(
    client, site, cache_server, django_capture_on_commit_callbacks, caplog
):
    """The change commits whatever the cache says; the beat's retry purges once it answers."""
    netflix = site["netflix"]
    assert "Netflix" in client.get("/companies/netflix/").content.decode()
    cache_server.stop()
    with django_capture_on_commit_callbacks(execute=True):
        netflix.name = "Netflix, renamed"
        netflix.save()
    netflix.refresh_from_db()
    assert netflix.name == "Netflix, renamed"
    purge_row = PagePurge.objects.get()
    assert purge_row.attempts == 1 and "ConnectionError" in purge_row.last_error
    assert keys.company_key(netflix.pk) in purge_row.keys
    assert "Could not purge" in caplog.text

    assert retry_pending_purges() == 1  # still down: kept
    assert PagePurge.objects.get().attempts == 2
    cache_server.start()
    assert retry_pending_purges() == 0
    assert "Netflix, renamed" in client.get("/companies/netflix/").content.decode()


def test_the_beat_retries_pending_purges_every_minute(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "reader.tasks.retry_purges")
    assert entry["schedule"] <= 60
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert "reader.tasks.retry_purges" in celery_app.tasks


def test_a_change_nothing_public_shows_records_no_purge():
    draft = IssueFactory(title="A draft")
    story = PlacementFactory(issue=draft, story__companies=[CompanyFactory()]).story
    story.tags.add("draft-only")
    story.title = "Still a draft"
    story.save()
    story.companies.first().save()
    ThemeFactory().save()
    StoryFactory()
    assert not PagePurge.objects.exists()


def test_a_change_to_a_published_story_records_its_purge_in_the_same_transaction(site):
    story = site["second"].placements.get().story
    story.title = "Corrected"
    story.save()
    purge_row = PagePurge.objects.get()  # uncommitted here: the test's transaction holds it
    assert {f"issue-{site['second'].pk}", f"company-{site['netflix'].pk}", "issues"} <= set(purge_row.keys)
