"""Fetching feeds from a real HTTP server on loopback, through the outbound guard."""

import datetime
import time

import pytest
from django.utils import timezone

from intake import fetching
from intake.models import Candidate, CandidateState, Feed
from tests.factories import CompanyFactory, StoryFactory
from tests.raw_http import one_raw_answer

from .conftest import posts
from .feed_server import atom, json_feed, rss, slow

pytestmark = pytest.mark.django_db

BLOG = "https://blog.example.com"


def make_feed(server, path, **fields):
    return Feed.objects.create(company=fields.pop("company", None) or CompanyFactory(), url=server.url(path), **fields)


@pytest.mark.parametrize(
    ("kind", "render", "content_type"),
    [
        ("rss", rss, "application/rss+xml"),
        ("atom", atom, "application/atom+xml"),
        ("json", json_feed, "application/feed+json"),
    ],
)
def test_each_kind_of_feed_becomes_candidates_of_its_company(feed_server, kind, render, content_type):
    feed_server.routes[f"/{kind}"] = (200, {"Content-Type": content_type}, render(posts(BLOG, 3)))
    feed = make_feed(feed_server, f"/{kind}")
    assert fetching.fetch_feed(feed.pk) == 3
    newest = Candidate.objects.newest_first().first()
    assert (newest.title, newest.link, newest.author, newest.summary) == (
        "Post 2",
        f"{BLOG}/posts/2",
        "Author 2",
        "What happened in post 2.",
    )
    assert newest.published_at == datetime.datetime(2026, 11, 20, 14, tzinfo=datetime.UTC)
    assert (newest.company, newest.feed, newest.state) == (feed.company, feed, CandidateState.NEW)
    feed.refresh_from_db()
    assert feed.failures == 0 and feed.last_success_at is not None and feed.title
    assert feed.next_fetch_at > timezone.now() + datetime.timedelta(minutes=50)


def test_the_same_post_in_two_feeds_with_tracking_and_a_new_title_is_one_candidate(feed_server):
    entry = posts(BLOG, 1)[0]
    tracked = {**entry, "link": entry["link"] + "?utm_source=rss&utm_medium=feed#comments", "title": "Post 0, retitled"}
    feed_server.routes["/a"] = (200, {"Content-Type": "application/rss+xml"}, rss([entry]))
    feed_server.routes["/b"] = (200, {"Content-Type": "application/atom+xml"}, atom([tracked]))
    company = CompanyFactory()
    fetching.fetch_feed(make_feed(feed_server, "/a", company=company).pk)
    fetching.fetch_feed(make_feed(feed_server, "/b", company=company).pk)
    assert list(Candidate.objects.values_list("link", "title")) == [(f"{BLOG}/posts/0", "Post 0")]


def test_a_second_fetch_is_conditional_and_a_304_changes_nothing(feed_server):
    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        headers = {
            "Content-Type": "application/rss+xml",
            "ETag": '"v1"',
            "Last-Modified": "Mon, 30 Nov 2026 10:00:00 GMT",
        }
        return 200, headers, rss(posts(BLOG, 2))

    feed_server.routes["/feed"] = conditional
    feed = make_feed(feed_server, "/feed")
    assert fetching.fetch_feed(feed.pk) == 2
    assert fetching.fetch_feed(feed.pk) == 0
    (_, first), (_, second) = feed_server.requests_to("/feed")
    assert "If-None-Match" not in first
    assert second["If-None-Match"] == '"v1"' and second["If-Modified-Since"] == "Mon, 30 Nov 2026 10:00:00 GMT"
    assert "feed reader" in second["User-Agent"] and "Engineering @ Scale" in second["User-Agent"]
    feed.refresh_from_db()
    assert feed.failures == 0 and Candidate.objects.count() == 2


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ((200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><item><title>unclosed"), "Not a feed"),
        ((500, {}, b"oops"), "HTTP 500"),
        ((200, {"Content-Type": "application/rss+xml"}, b"<rss>" + b" " * 300_000), "at most 262144 are accepted"),
        ((302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""), "not allowed"),
        ((302, {"Location": "http://10.1.2.3/feed"}, b""), "not allowed"),
    ],
    ids=["broken", "server-error", "huge", "redirect-to-metadata", "redirect-to-private"],
)
def test_a_failing_feed_backs_off_with_its_error_and_others_still_work(feed_server, route, error):
    feed_server.routes["/bad"] = route
    feed_server.routes["/good"] = (200, {"Content-Type": "application/rss+xml"}, rss(posts(BLOG, 1)))
    bad, good = make_feed(feed_server, "/bad"), make_feed(feed_server, "/good")
    for _ in range(2):
        Feed.objects.filter(pk=bad.pk).update(next_fetch_at=timezone.now())
        assert fetching.fetch_feed(bad.pk) == 0
    assert fetching.fetch_feed(good.pk) == 1
    bad.refresh_from_db()
    assert bad.failures == 2 and error in bad.last_error
    # Twice the interval after each failure in a row: four hours after the second (±10%).
    assert bad.next_fetch_at > timezone.now() + datetime.timedelta(hours=3.5)
    fetching.fetch_feed(bad.pk)
    feed_server.routes["/bad"] = feed_server.routes["/good"]
    fetching.fetch_feed(bad.pk)
    bad.refresh_from_db()
    assert (bad.failures, bad.last_error) == (0, "")


def test_a_slow_feed_is_cut_off_by_the_timeout(feed_server):
    feed_server.routes["/slow"] = slow(3, (200, {"Content-Type": "application/rss+xml"}, rss(posts(BLOG, 1))))
    feed = make_feed(feed_server, "/slow")
    started = time.monotonic()
    assert fetching.fetch_feed(feed.pk) == 0
    assert time.monotonic() - started < 2.5
    feed.refresh_from_db()
    assert feed.failures == 1 and "in time" in feed.last_error


def test_new_posts_redirects_are_resolved_once_and_seen_posts_never_requested_again(feed_server):
    base = feed_server.url("")
    entries = [{**entry, "link": f"{base}/r/{n}"} for n, entry in enumerate(posts(base, 2))]
    feed_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, rss(entries))
    feed_server.routes["/r/*"] = lambda h: (
        301,
        {"Location": "/posts/" + h.path.rsplit("/", 1)[1] + "?utm_campaign=x"},
        b"",
    )
    feed_server.routes["/posts/*"] = (200, {"Content-Type": "text/html"}, b"<title>post</title>")
    feed = make_feed(feed_server, "/feed")
    assert fetching.fetch_feed(feed.pk) == 2
    assert set(Candidate.objects.values_list("link", "listed_link")) == {
        (f"{base}/posts/{n}", f"{base}/r/{n}") for n in range(2)
    }
    heads = len([r for r in feed_server.requests if r[0] == "HEAD"])
    assert fetching.fetch_feed(feed.pk) == 0
    assert len([r for r in feed_server.requests if r[0] == "HEAD"]) == heads


def test_a_redirect_budget_keeps_the_listed_address_beyond_it(feed_server, settings):
    settings.INTAKE_MAX_RESOLVES = 1
    base = feed_server.url("")
    entries = [{**entry, "link": f"{base}/r/{n}"} for n, entry in enumerate(posts(base, 3))]
    feed_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, rss(entries))
    feed_server.routes["/r/*"] = lambda h: (302, {"Location": "/posts/" + h.path.rsplit("/", 1)[1]}, b"")
    feed_server.routes["/posts/*"] = (200, {"Content-Type": "text/html"}, b"<title>post</title>")
    fetching.fetch_feed(make_feed(feed_server, "/feed").pk)
    assert len([r for r in feed_server.requests if r[0] == "HEAD" and r[1].startswith("/r/")]) == 1
    assert Candidate.objects.filter(link__contains="/r/").count() == 2


def test_hostile_entries_are_stored_as_inert_text(feed_server, settings):
    settings.INTAKE_MAX_FEED_BYTES = 2 * 1024 * 1024
    entries = [
        {
            **posts(BLOG, 1)[0],
            "title": "<script>alert(1)</script>Real &amp; title\u202e\x00",
            "summary": '<img src=x onerror="alert(2)"><b>Bold</b> claim',
        },
        {**posts(BLOG, 1, start=1)[0], "title": "T" * 1_000_000},
        {**posts(BLOG, 1, start=2)[0], "link": "javascript:alert(3)"},
        {**posts(BLOG, 1, start=3)[0], "link": "file:///etc/passwd"},
    ]
    feed_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, rss(entries))
    feed = make_feed(feed_server, "/feed")
    assert fetching.fetch_feed(feed.pk) == 2
    first, long = Candidate.objects.order_by("listed_link")
    assert first.title == "Real & title" and first.summary == "Bold claim"
    assert long.title == "T" * 300
    assert not Candidate.objects.filter(link__startswith="javascript").exists()


def test_a_post_cited_by_a_story_arrives_used(feed_server):
    story = StoryFactory()
    story.sources.create(title="Post 0", url=f"{BLOG}/posts/0")
    feed_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, rss(posts(BLOG, 2)))
    fetching.fetch_feed(make_feed(feed_server, "/feed").pk)
    assert Candidate.objects.get(link=f"{BLOG}/posts/0").state == CandidateState.USED
    assert Candidate.objects.get(link=f"{BLOG}/posts/0").story == story
    assert Candidate.objects.get(link=f"{BLOG}/posts/1").state == CandidateState.NEW


def test_the_beat_claims_due_unpaused_feeds_once_until_their_lease_runs_out(feed_server):
    due = make_feed(feed_server, "/due", next_fetch_at=timezone.now() - datetime.timedelta(minutes=1))
    make_feed(feed_server, "/later", next_fetch_at=timezone.now() + datetime.timedelta(hours=1))
    make_feed(feed_server, "/paused", paused=True, next_fetch_at=timezone.now() - datetime.timedelta(hours=1))
    assert fetching.claim_due_feeds() == [due.pk]
    assert fetching.claim_due_feeds() == []
    assert fetching.claim_due_feeds(now=timezone.now() + datetime.timedelta(minutes=11)) == [due.pk]


def test_new_feeds_are_spread_over_their_first_interval():
    company = CompanyFactory()
    feeds = []
    for n in range(40):
        feed = Feed(company=company, url=f"https://blog{n}.example.com/feed")
        feed.spread_first_fetch()
        feeds.append(feed.next_fetch_at - timezone.now())
    assert max(feeds) - min(feeds) > datetime.timedelta(minutes=30)
    assert max(feeds) <= datetime.timedelta(hours=1)


def test_a_post_added_by_address_takes_the_page_title(feed_server, editor):
    feed_server.routes["/go"] = (301, {"Location": "/article?utm_source=x"}, b"")
    feed_server.routes["/article"] = (
        200,
        {"Content-Type": "text/html"},
        b'<html><head><title>Site</title><meta property="og:title" content="The &lt;real&gt; title"></head></html>',
    )
    company = CompanyFactory()
    candidate = fetching.add_post(url=feed_server.url("/go"), company=company, by=editor)
    assert (candidate.title, candidate.link, candidate.company) == (
        "The <real> title",
        feed_server.url("/article"),
        company,
    )
    assert candidate.added_by == editor and candidate.feed is None


def test_a_feed_with_nul_bytes_in_its_validators_is_read_and_they_are_dropped(feed_server):
    headers = {"Content-Type": "application/rss+xml", "ETag": '"v\x001"', "Last-Modified": "Mon,\x00 30 Nov 2026"}
    feed_server.routes["/feed"] = (200, headers, rss(posts(BLOG, 2)))
    feed = make_feed(feed_server, "/feed")
    assert fetching.fetch_feed(feed.pk) == 2
    feed.refresh_from_db()
    assert (feed.failures, feed.etag, feed.last_modified) == (0, '"v1"', "Mon, 30 Nov 2026")


def test_a_status_line_with_a_nul_byte_is_the_feeds_failure_shown_on_it(db):
    with one_raw_answer(b"HTTP/1.1 2\x0000 OK\r\nContent-Length: 0\r\n\r\n") as port:
        feed = Feed.objects.create(company=CompanyFactory(), url=f"http://127.0.0.1:{port}/feed")
        assert fetching.fetch_feed(feed.pk) == 0
    feed.refresh_from_db()
    assert feed.failures == 1 and "Request to 127.0.0.1 failed" in feed.last_error and "\x00" not in feed.last_error


def test_a_post_and_a_feed_at_addresses_with_accents_are_read(feed_server, editor, client):
    page = b"<html><head><title>Le caf\xc3\xa9</title></head></html>"
    feed_server.routes["/caf%C3%A9"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
    feed_server.routes["/flux-%C3%A9t%C3%A9"] = (200, {"Content-Type": "application/rss+xml"}, rss(posts(BLOG, 2)))
    client.force_login(editor)
    response = client.post("/admin/intake/candidate/add/", {"url": feed_server.url("/caf\u00e9")})
    assert response.status_code == 302
    assert Candidate.objects.get().title == "Le caf\u00e9"
    feed = make_feed(feed_server, "/flux-\u00e9t\u00e9")
    assert fetching.fetch_feed(feed.pk) == 2
