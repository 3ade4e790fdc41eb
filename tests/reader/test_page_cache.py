"""The page cache: warm pages cost no query, and publishing, correcting or withdrawing an
issue never leaves a stale page behind.

The reader site purges by key from the receivers of the core's signals and of the models'
own, once the change commits: here the changes are made as the workflow or the admin
makes them, and the commit callbacks are run.
"""

import signal
import threading
import time

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from companies.models import Company
from digest import corrections, workflow
from digest.models import Issue, IssueState
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, ThemeFactory, record_approval, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    """Two published issues sharing a company, theme and tag, and an unrelated company."""
    netflix = CompanyFactory(name="Netflix", slug="netflix")
    confluent = CompanyFactory(name="Confluent", slug="confluent")
    unrelated = CompanyFactory(name="Unrelated", slug="unrelated")
    theme = ThemeFactory(name="Data planes", slug="data-planes")
    first = IssueFactory(published=True, title="First issue")
    second = IssueFactory(published=True, title="Second issue")
    old_story = PlacementFactory(issue=first, story__title="Old story", story__companies=[netflix, unrelated]).story
    story = PlacementFactory(
        issue=second, story__title="Lightbulb routing", story__companies=[netflix, confluent], story__themes=[theme]
    ).story
    story.tags.add("envoy")
    old_story.tags.add("envoy")
    return {"first": first, "second": second, "story": story, "netflix": netflix, "unrelated": unrelated}


PAGES = [
    "/",
    "/issues/",
    "/companies/",
    "/companies/netflix/",
    "/companies/confluent/",
    "/themes/data-planes/",
    "/tags/envoy/",
    "/feed/",
    "/feed/atom/",
    "/companies/netflix/feed/",
    "/themes/data-planes/feed/atom/",
    "/sitemap.xml",
    "/robots.txt",
]


def text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def warm(client, urls):
    for url in urls:
        text(client, url)


def test_warm_pages_are_served_without_touching_the_database(client, site, django_assert_num_queries):
    urls = [
        *PAGES,
        site["second"].get_absolute_url(),
        "/issues/?page=1",
        "/companies/?letter=N",
        "/companies/?letter=%23",
    ]
    urls += ["/companies/?letter=N&page=1", "/companies/netflix/?page=1"]  # as the pagination links write them
    warm(client, urls)
    for url in urls:
        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200


def test_a_warm_page_answers_exactly_as_the_fresh_render_did(client, site, django_assert_num_queries):
    for url in (site["second"].get_absolute_url(), "/feed/", "/robots.txt"):
        fresh = client.get(url)
        with django_assert_num_queries(0):
            warm = client.get(url)
        assert warm.status_code == fresh.status_code == 200
        assert warm.content == fresh.content
        headers = {name: value for name, value in fresh.items() if name != "Date"}
        assert {name: value for name, value in warm.items() if name != "Date"} == headers
        assert int(warm["Content-Length"]) == len(warm.content)
        assert warm["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in warm["Content-Security-Policy"]
        assert not warm.cookies


def test_pages_carry_validators_and_answer_conditional_requests(client, site):
    url = site["second"].get_absolute_url()
    first = client.get(url)
    assert first["ETag"].startswith('"') and first["Last-Modified"]
    assert "no-cache" in first["Cache-Control"] and "public" in first["Cache-Control"]
    assert "unsafe-inline" not in first["Content-Security-Policy"]
    assert client.get(url)["Content-Security-Policy"] == first["Content-Security-Policy"]  # from the cache too
    not_modified = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_search_pages_also_answer_conditional_requests(client, site):
    first = client.get("/search/?q=routing")
    assert client.get("/search/?q=routing", headers={"If-None-Match": first["ETag"]}).status_code == 304


def test_without_a_purge_the_cache_keeps_serving_the_old_page(client, site):
    """The control for the tests below: the cache really is in the way until purged."""
    url = site["second"].get_absolute_url()
    assert "Lightbulb routing" in text(client, url)
    site["story"].title = "Corrected title"
    site["story"].save()
    assert "Lightbulb routing" in text(client, url)


def test_publishing_an_issue_updates_every_page_that_shows_it(client, site, django_capture_on_commit_callbacks):
    warm(client, [*PAGES, site["second"].get_absolute_url()])
    third = IssueFactory(title="Third issue")
    PlacementFactory(
        issue=third,
        story__title="Brand new story",
        story__companies=[site["netflix"], CompanyFactory(name="Newcomer", slug="newcomer")],
    ).story.tags.add("envoy")
    # Made public by a plain save (as an import would): the purge follows the commit.
    with django_capture_on_commit_callbacks(execute=True):
        third.state, third.published_at = IssueState.PUBLISHED, timezone.now()
        third.save()
    assert '<h1 id="issue-title">Third issue</h1>' in text(client, "/")
    assert "Third issue" in text(client, "/issues/")
    assert "Newcomer" in text(client, "/companies/")
    assert "Brand new story" in text(client, "/companies/netflix/")
    assert "Brand new story" in text(client, "/tags/envoy/")
    assert "Third issue" in text(client, "/feed/")
    assert "Third issue" in text(client, "/feed/atom/")
    assert "Brand new story" in text(client, "/companies/netflix/feed/")
    assert third.get_absolute_url() in text(client, "/sitemap.xml")
    assert f'rel="next" href="{third.get_absolute_url()}"' in text(client, site["second"].get_absolute_url())


def test_a_correction_updates_the_issue_and_its_story_pages(client, site, django_capture_on_commit_callbacks):
    story = site["story"]
    urls = [site["second"].get_absolute_url(), "/", "/companies/netflix/", "/themes/data-planes/", "/tags/envoy/"]
    warm(client, [*urls, "/companies/confluent/", "/companies/", "/feed/"])
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "Lightbulb routing, corrected"
        story.save()
        story.companies.remove(Company.objects.get(slug="confluent"))
    for url in [*urls, "/feed/"]:
        assert "Lightbulb routing, corrected" in text(client, url), url
    # Confluent is no longer named by any published story: its page and its count are gone.
    assert client.get("/companies/confluent/").status_code == 404
    assert "Confluent" not in text(client, "/companies/")


def test_withdrawing_an_issue_removes_it_everywhere(client, site, django_capture_on_commit_callbacks):
    second = site["second"]
    warm(client, [*PAGES, second.get_absolute_url(), site["first"].get_absolute_url()])
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(issue=second, by=user_in_role("Publisher"), comment="Legal asked us to.")
    assert client.get(second.get_absolute_url()).status_code == 410
    assert '<h1 id="issue-title">First issue</h1>' in text(client, "/")
    for url in ("/issues/", "/feed/", "/feed/atom/", "/companies/netflix/", "/tags/envoy/", "/companies/netflix/feed/"):
        page = text(client, url)
        assert "Second issue" not in page and "Lightbulb routing" not in page, url
    assert second.get_absolute_url() not in text(client, "/sitemap.xml")
    assert "Second issue" not in text(client, site["first"].get_absolute_url())
    assert client.get("/companies/confluent/").status_code == 404
    assert client.get("/themes/data-planes/").status_code == 404
    assert client.get("/themes/data-planes/feed/atom/").status_code == 404
    assert "Confluent" not in text(client, "/companies/")


def test_every_variant_of_a_purged_page_is_purged(client, site, django_capture_on_commit_callbacks):
    for _ in range(20):
        IssueFactory(published=True)
    assert "First issue" in text(client, "/issues/?page=2")
    with django_capture_on_commit_callbacks(execute=True):
        site["first"].title = "First issue, renamed"
        site["first"].save()
    assert "First issue, renamed" in text(client, "/issues/?page=2")


def test_the_purge_leaves_unrelated_pages_cached(
    client, site, django_assert_num_queries, django_capture_on_commit_callbacks
):
    third_company = CompanyFactory(slug="elsewhere")
    PlacementFactory(issue=site["first"], story__companies=[third_company])
    warm(client, ["/companies/elsewhere/", "/companies/confluent/", site["first"].get_absolute_url()])
    second = site["second"]
    with django_capture_on_commit_callbacks(execute=True):
        second.title = "Second issue, retitled"
        second.save()
        corrections.record_correction(issue=second, by=user_in_role("Publisher"), note="A clearer title.")
    # The first issue is the second's neighbour (its "next" link names it), so it is
    # purged, like the second's companies; a company only in the first issue is not.
    with django_assert_num_queries(0):
        client.get("/companies/elsewhere/")
    assert "Second issue, retitled" in text(client, site["first"].get_absolute_url())
    assert "A clearer title." in text(client, second.get_absolute_url())


def test_made_up_query_strings_are_not_cached(client, site, django_assert_max_num_queries):
    url = f"{site['second'].get_absolute_url()}?utm_source=x"
    text(client, url)
    site["story"].title = "Changed"
    site["story"].save()
    assert "Changed" in text(client, url)


def test_the_publication_run_purges_the_pages_it_changes(client, site, django_capture_on_commit_callbacks):
    """Through the workflow's own publish run, not a simulated one."""
    from digest import publishing

    warm(client, ["/", "/issues/", "/companies/netflix/", "/feed/", site["second"].get_absolute_url()])
    third = IssueFactory(state=IssueState.APPROVED, title="Third issue")
    PlacementFactory(issue=third, story__title="Brand new story", story__companies=[site["netflix"]])
    record_approval(third)  # approved as it stands now
    run = publishing.publish(issue=third, by=user_in_role("Publisher"))
    with django_capture_on_commit_callbacks(execute=True):
        publishing.advance_run(run.pk)
    assert '<h1 id="issue-title">Third issue</h1>' in text(client, "/")
    assert "Third issue" in text(client, "/issues/") and "Third issue" in text(client, "/feed/")
    assert "Brand new story" in text(client, "/companies/netflix/")
    assert f'rel="next" href="{third.get_absolute_url()}"' in text(client, site["second"].get_absolute_url())


def test_workflow_withdrawal_and_correction_purge_the_pages(client, site, django_capture_on_commit_callbacks):
    """The workflow's own withdraw and record_correction queue the purge on commit."""
    publisher = user_in_role("Publisher")
    first_url, second_url = site["first"].get_absolute_url(), site["second"].get_absolute_url()
    warm(client, [first_url, "/", "/companies/netflix/"])
    with django_capture_on_commit_callbacks(execute=True):
        corrections.record_correction(issue=site["first"], by=publisher, note="Fixed a company name.")
    assert "Fixed a company name." in text(client, first_url)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(issue=site["second"], by=publisher, comment="Legal asked us to.")
    assert client.get(second_url).status_code == 410
    assert '<h1 id="issue-title">First issue</h1>' in text(client, "/")
    assert "Lightbulb routing" not in text(client, "/companies/netflix/")


def test_a_correction_taking_a_company_off_a_story_updates_that_companys_page(
    client, site, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.admin_forms import change_form_data

    publisher = Client()
    publisher.force_login(user_in_role("Publisher"))
    story, netflix = site["story"], site["netflix"]
    assert "Lightbulb routing" in text(client, "/companies/confluent/")  # warm: the story names Confluent
    url = reverse("admin:stories_story_change", args=[story.pk])
    data = change_form_data(
        publisher.get(url), companies=[str(netflix.pk)], correction_note="Confluent was not involved."
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = publisher.post(url, data)
    assert response.status_code == 302
    assert client.get("/companies/confluent/").status_code == 404  # its only public story no longer names it
    assert "Confluent" not in text(client, "/companies/")
    assert "Confluent was not involved." in text(client, site["second"].get_absolute_url())


def junk_urls(site):
    """A thousand addresses that show nothing a canonical URL does not: none of them may add a cache entry."""
    issue = site["second"].get_absolute_url()
    pages = ["/", issue, "/issues/", "/companies/", "/companies/netflix/", "/tags/envoy/", "/feed/", "/sitemap.xml"]
    values = ["2", "3", "02", "002", "1.0", "+1", "%201", "1%20", "%EF%BC%91", "9" * 12, "-1", "0", "abc", ""]
    urls = [f"{page}?{name}={value}" for page in pages for name in ("page", "letter") for value in values]
    urls += [f"{issue}?page={n}" for n in range(1, 151)]  # the issue page has no pages at all
    urls += [
        f"{page}?{query}"
        for page in ("/issues/", "/companies/")
        for query in (
            "page=1&page=1",
            "page=2&page=2",
            "letter=N&letter=N",
            "page=1&letter=N",
            "letter=n",
            "letter=%4E",
        )
    ]
    urls += [f"/companies/?letter={letter}&page={page}" for letter in "ABCDEFGHIJ" for page in range(2, 12)]
    urls += [f"{path}junk-{n}/" for path in ("/issues/", "/companies/", "/themes/", "/tags/") for n in range(100)]
    urls += [f"/companies/junk-{n}/feed/" for n in range(100)]
    return urls


HOST_VARIANTS = ["TESTSERVER", "TestServer", "testserver:80", "testserver:8080", "LOCALHOST:80"]


def test_junk_urls_add_no_cache_entries(client, site, cache_redis):
    """Made-up page numbers, letters, repeats, unknown paths and Host spellings store nothing.

    Counted in the real Redis cache: the canonical pages are stored once, and every entry,
    the keys' tokens included, expires.
    """
    from reader.page_cache import KEY_TIMEOUT

    for _ in range(25):
        IssueFactory(published=True)  # the archive has a second page
    canonical = [*PAGES, site["second"].get_absolute_url(), "/issues/?page=2", "/companies/?letter=N"]
    warm(client, canonical)
    before = cache_redis.dbsize()
    requests = [(url, {}) for url in junk_urls(site)]
    requests += [(url, {"host": host}) for host in HOST_VARIANTS for url in ("/", "/issues/", "/feed/", "/sitemap.xml")]
    assert len(requests) >= 1_000
    for url, headers in requests:
        assert client.get(url, headers=headers).status_code < 500, url
    assert cache_redis.dbsize() == before
    for key in cache_redis.scan_iter():
        assert 0 < cache_redis.ttl(key) <= KEY_TIMEOUT, key
    # The canonical pages are still served from the cache.
    for url in canonical:
        assert client.get(url).status_code == 200


def test_a_page_that_is_not_stored_leaves_no_token_behind(client, site, cache_redis):
    for url in ("/issues/no-such-issue/", "/companies/no-such-company/", "/companies/netflix/?page=2"):
        assert client.get(url).status_code == 404
    assert client.get("/companies/?letter=n").status_code == 200  # rendered, not stored
    # Only the site-wide purge marker, made by the first lookup: no page, no key's token.
    assert [key.decode().rsplit(":", 2)[-2:] for key in cache_redis.scan_iter()] == [["reader", "purges"]]


def test_the_reader_site_is_served_uncached_while_the_cache_is_down(
    client, reader_pages, cache_server, caplog, django_assert_num_queries
):
    """Stopped, or frozen: every public page still answers 200, at once, and the failure is logged."""
    issue = Issue.objects.get(slug="2026-04-18")
    issue.pdf.save("edition.pdf", ContentFile(b"%PDF-1.4 a stand-in for the edition"), save=False)
    issue.pdf_content_hash, issue.pdf_rendered_at = "0" * 64, timezone.now()
    issue.save()
    company, theme = reader_pages["company"], reader_pages["theme"]
    cached = [
        *(reader_pages[name] for name in ("home", "issue", "archive", "companies", "company", "theme", "tag")),
        *("/feed/", "/feed/atom/", f"{company}feed/", f"{theme}feed/atom/", "/sitemap.xml", "/robots.txt"),
    ]
    never_cached = [reader_pages["search"], reader_pages["search-empty"], f"{reader_pages['issue'].rstrip('/')}.pdf"]
    for url in [*cached, *never_cached]:
        assert client.get(url).status_code == 200, url
    with django_assert_num_queries(0):
        assert client.get(reader_pages["issue"]).status_code == 200  # served from the cache

    cache_server.stop()
    for url in [*cached, *never_cached]:
        caplog.clear()
        started = time.monotonic()
        assert client.get(url).status_code == 200, url
        assert time.monotonic() - started < 2, f"{url} took {time.monotonic() - started:.1f}s"
        logged = [record for record in caplog.records if "Page cache unavailable" in record.getMessage()]
        assert len(logged) == (url in cached) and all(record.levelname == "WARNING" for record in logged), url

    cache_server.start()  # back: pages are stored and served from it again
    warm(client, [reader_pages["issue"]])
    with django_assert_num_queries(0):
        assert client.get(reader_pages["issue"]).status_code == 200

    # Frozen (it accepts connections but never answers): the client's timeout bounds the wait.
    cache_server.process.send_signal(signal.SIGSTOP)
    thaw = threading.Timer(8, cache_server.process.send_signal, [signal.SIGCONT])
    thaw.start()
    try:
        caplog.clear()
        started = time.monotonic()
        assert client.get(reader_pages["archive"]).status_code == 200
        assert time.monotonic() - started < 3, f"a frozen cache held the request {time.monotonic() - started:.1f}s"
        assert "Page cache unavailable" in caplog.text
    finally:
        thaw.cancel()
        cache_server.process.send_signal(signal.SIGCONT)


def test_a_server_on_a_port_of_its_own_has_its_pages_cached(client, site, django_assert_num_queries):
    """As the benchmark and a developer reach gunicorn or runserver: ``127.0.0.1:8000``."""
    on_port = {"headers": {"host": "127.0.0.1:8000"}, "SERVER_PORT": "8000"}
    fresh = client.get("/issues/", **on_port)
    assert fresh.status_code == 200 and "http://127.0.0.1:8000/issues/" in fresh.content.decode()
    with django_assert_num_queries(0):
        assert client.get("/issues/", **on_port).content == fresh.content
