"""The front cache: a real varnishd running deploy/varnish/default.vcl before the test server.

Readers' requests go to Varnish on loopback, which fetches from pytest-django's live server
(the site with the Redis page cache, FRONT_CACHE=varnish). Whether Varnish served a response
from its cache is its own ``X-Cache`` header (default.vcl). Changes are made through the
core's services and commit for real, so the purges go from the PagePurge rows to Varnish
as in production.
"""

import time
from contextlib import contextmanager

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from digest import corrections
from digest.models import Issue, IssueState
from digest.previews import make_share_link, share_token
from reader import front_cache, page_cache, tasks
from reader.models import PagePurge
from reader.page_cache import PageCacheMiddleware, add_keys
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, user_in_role
from tests.integration.conftest import free_port

from .varnish import Forwarder, Varnish


@pytest.fixture
def site(transactional_db):
    """Two published issues on different companies, and a draft: the second is the latest."""
    quiet = CompanyFactory(name="Quietco", slug="quietco")
    loud = CompanyFactory(name="Loudco", slug="loudco")
    first = IssueFactory(published=True, title="First issue", week_in_review="Nothing changes here.")
    second = IssueFactory(published=True, title="Second issue", week_in_review="Amazn shipped a router.")
    draft = IssueFactory(title="Draft issue", week_in_review="Unpublished words.")
    PlacementFactory(issue=first, story__title="Quiet story", story__companies=[quiet])
    PlacementFactory(issue=second, story__title="Loud story", story__companies=[loud])
    PlacementFactory(issue=draft, story__title="Draft story", story__companies=[loud])
    return {"first": first, "second": second, "draft": draft}


def _purged_by_the_site(varnish, settings):
    settings.FRONT_CACHE = "varnish"
    settings.FRONT_CACHE_PURGE_URLS = [varnish.purge_url]
    return varnish


@pytest.fixture(scope="module")
def varnish_server(live_server, tmp_path_factory):
    """One varnishd before the live server for the module's tests (it starts in about a second)."""
    varnish = Varnish(tmp_path_factory.mktemp("varnish"), live_server.thread.port).start()
    yield varnish
    varnish.stop()


@pytest.fixture
def varnish(varnish_server, cache_redis, settings, transactional_db):
    """Varnish before the live server, empty, and the site purging it."""
    varnish_server.forget_everything()
    return _purged_by_the_site(varnish_server, settings)


def fetch_twice(varnish, path, **kwargs):
    return varnish.get(path, **kwargs), varnish.get(path, **kwargs)


@contextmanager
def correcting(issue, by, note):
    """A correction of a published issue, committed at the end of the block (its purge runs then)."""
    with transaction.atomic():
        yield
        corrections.record_correction(issue=issue, by=by, note=note)


def correct_week_in_review(issue, text):
    """Correct the issue's text; return the time its transaction committed."""
    committed = []
    with correcting(issue, user_in_role("Publisher"), "Spelled it right."):
        transaction.on_commit(lambda: committed.append(time.monotonic()))  # the first thing after the commit
        issue.week_in_review = text
        issue.save()
    return committed[0]


PUBLIC_PAGES = ["/", "/issues/", "/companies/", "/companies/loudco/", "/feed/", "/companies/quietco/feed/atom/"]


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/sitemap.xml", "issue"])
def test_a_public_page_is_served_from_varnish_the_second_time(varnish, site, path):
    path = site["second"].get_absolute_url() if path == "issue" else path
    first, second = fetch_twice(varnish, path)

    assert (first.status, first.cache) == (200, "miss")
    assert (second.status, second.cache) == (200, "hit")
    assert second.body == first.body
    # The keys and s-maxage are for Varnish only: the browser is told to revalidate, as without it.
    assert "xkey" not in second.headers
    assert "s-maxage" not in second.headers["Cache-Control"]
    assert "max-age=0" in second.headers["Cache-Control"] and "public" in second.headers["Cache-Control"]


def test_the_pdf_edition_is_served_from_varnish(varnish, site):
    issue = site["second"]
    name = default_storage.save("issues/pdf/edition.pdf", ContentFile(b"%PDF-1.7 a stored edition"))
    Issue.objects.filter(pk=issue.pk).update(pdf=name, pdf_content_hash="a" * 64, pdf_rendered_at=timezone.now())

    first, second = fetch_twice(varnish, f"/issues/{issue.slug}.pdf")

    assert (first.cache, second.cache) == ("miss", "hit")
    assert second.body == b"%PDF-1.7 a stored edition"
    assert "max-age=300" in second.headers["Cache-Control"] and "s-maxage" not in second.headers["Cache-Control"]


def test_a_correction_is_served_within_a_second_and_unrelated_pages_stay_cached(varnish, site):
    second, first = site["second"], site["first"]
    affected = ["/", second.get_absolute_url(), "/feed/"]
    unrelated = [first.get_absolute_url(), "/companies/quietco/"]
    for path in affected + unrelated:
        fetch_twice(varnish, path)
    assert all(varnish.get(path).cache == "hit" for path in affected + unrelated)

    committed = correct_week_in_review(second, "Amazon shipped a router.")

    for path in affected:
        while "Amazon shipped a router." not in (page := varnish.get(path)).text:
            assert time.monotonic() - committed < 1.0, f"{path} still stale a second after the correction"
            time.sleep(0.02)
        assert "Spelled it right." in page.text or path == "/feed/"
        assert varnish.get(path).cache == "hit"  # fresh, and kept again
    for path in unrelated:
        assert varnish.get(path).cache == "hit", f"{path} shows nothing corrected, yet was purged"
    assert not PagePurge.objects.exists()  # done, in the page cache and in Varnish


def test_a_purge_varnish_refuses_is_kept_reported_and_retried(varnish, site, settings):
    second = site["second"]
    fetch_twice(varnish, second.get_absolute_url())
    down = f"http://127.0.0.1:{free_port()}"
    settings.FRONT_CACHE_PURGE_URLS = [varnish.purge_url, down]  # a second Varnish, down

    correct_week_in_review(second, "Amazon shipped a router.")

    # The correction committed; its purges are still owed, each with what went wrong.
    owed = list(PagePurge.objects.all())
    assert owed and all(purge.attempts == 1 for purge in owed)
    assert all(f"{down}: ConnectionRefusedError" in purge.last_error for purge in owed)
    # The Varnish that answered has it already.
    assert "Amazon shipped a router." in varnish.get(second.get_absolute_url()).text

    settings.FRONT_CACHE_PURGE_URLS = [varnish.purge_url]  # the other one is back (or gone for good)
    tasks.retry_purges.delay()  # the beat's minute (Celery runs it eagerly here)
    assert not PagePurge.objects.exists()


def test_an_editors_session_never_enters_varnish(varnish, site):
    editor = Client()
    editor.force_login(user_in_role("Editor"))
    session = f"sessionid={editor.cookies['sessionid'].value}"

    for path in [site["second"].get_absolute_url(), "/admin/", "/admin/digest/issue/"]:
        first, second = fetch_twice(varnish, path, cookie=session)
        assert first.status == second.status == 200
        assert first.cache == second.cache == "pass", path

    # A reader asking for the same addresses gets the login page, not the editor's.
    anonymous = varnish.get("/admin/digest/issue/")
    assert anonymous.status == 200 and "Draft issue" not in anonymous.text
    assert "login" in anonymous.text.lower()


def test_a_preview_never_enters_varnish(varnish, site):
    link = make_share_link(issue=site["draft"], by=user_in_role("Publisher"))
    path = f"/preview/{share_token(link)}/"

    first, second = fetch_twice(varnish, path)

    assert first.status == second.status == 200
    assert "Unpublished words." in second.text
    assert first.cache == second.cache == "pass"


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",  # no keys
        "/search/?q=router",  # a search with parameters
        "/issues/?junk=1",  # a variant no link names: the page cache does not vouch for it
        "/issues/no-such-issue/",  # a 404
    ],
)
def test_a_response_without_keys_and_s_maxage_is_never_kept(varnish, site, path):
    first, second = fetch_twice(varnish, path)
    assert first.cache == second.cache == "pass"


def test_a_withdrawn_issue_page_is_not_kept(varnish, site):
    site["first"].state = IssueState.WITHDRAWN
    site["first"].save()
    first, second = fetch_twice(varnish, site["first"].get_absolute_url())
    assert first.status == second.status == 410
    assert second.cache == "pass"


def test_grace_serves_the_last_page_while_the_site_is_down(live_server, cache_redis, site, settings, tmp_path):
    backend = Forwarder(live_server.thread.port)
    varnish = _purged_by_the_site(Varnish(tmp_path, backend.port).start(), settings)
    settings.FRONT_CACHE_MAX_AGE = 1  # so that the page's TTL is over when the site goes down
    try:
        path = site["second"].get_absolute_url()
        page = varnish.get(path)
        assert page.cache == "miss"
        time.sleep(1.5)
        backend.stop()
        assert varnish.get("/healthz").status == 503  # the site is down for what Varnish has not kept

        stale = varnish.get(path)

        assert stale.status == 200 and stale.body == page.body
        assert int(stale.headers["Age"]) >= 1
    finally:
        varnish.stop()
        backend.stop()


def test_only_the_purge_listener_purges(varnish, site):
    path = site["second"].get_absolute_url()
    key = f"issue-{site['second'].pk}"
    fetch_twice(varnish, path)

    refused = varnish.request("PURGE", "/", headers={"xkey-purge": key})
    assert refused.status == 403
    assert varnish.get(path).cache == "hit"
    assert varnish.request("GET", path, port=varnish.purge_port).status == 405  # and serves nothing


def test_a_purge_of_many_keys_reaches_varnish_in_bounded_requests(varnish, site):
    path = site["second"].get_absolute_url()
    fetch_twice(varnish, path)

    # More keys than one request carries (front_cache.KEYS_PER_PURGE), the page's among the last.
    front_cache.purger().purge([*(f"company-{n}" for n in range(250)), f"issue-{site['second'].pk}"])

    assert varnish.get(path).cache == "miss"


def test_a_page_rendered_while_its_key_is_purged_never_goes_to_the_front_cache(settings, db):
    """The page cache does not store it (it may show what the purge dropped): Varnish must not keep it either."""
    settings.FRONT_CACHE, settings.FRONT_CACHE_PURGE_URLS = "varnish", ["http://127.0.0.1:9"]
    request_factory, key = RequestFactory(), "company-1"

    def render_during_a_purge(request):
        add_keys(request, key)
        page = HttpResponse("shows what the purge dropped")
        page_cache.purge([key])  # the change committed and was purged after the view read the database
        return page

    def render(request):
        add_keys(request, key)
        return HttpResponse("current")

    racing = PageCacheMiddleware(render_during_a_purge)(request_factory.get("/companies/"))
    assert "s-maxage" not in racing.get("Cache-Control", "")
    current = PageCacheMiddleware(render)(request_factory.get("/companies/"))
    assert current["Cache-Control"] == "public, max-age=0, must-revalidate, s-maxage=3600"
    assert current[page_cache.KEYS_HEADER] == key
