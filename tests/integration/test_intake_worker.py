"""The intake against a real Celery worker with its beat, real Redis and PostgreSQL, and a feed server on loopback."""

import datetime
import time

import pytest
from django.utils import timezone

from intake.models import Candidate, Feed
from tests.factories import CompanyFactory
from tests.intake.conftest import posts
from tests.intake.feed_server import FeedServer, atom, json_feed, rss, slow

from .conftest import wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def feed_server():
    server = FeedServer().start()
    yield server
    server.stop()


def test_the_beat_fetches_due_feeds_and_a_bad_one_never_blocks_the_others(services, feed_server):
    broker = services.redis()
    services.use(broker=broker, cache=broker)
    base = feed_server.url("")

    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, rss(posts(base, 3, prefix="RSS"))

    feed_server.routes.update(
        {
            "/rss": conditional,
            # The Atom feed lists RSS post 0 again, with tracking parameters and another title.
            "/atom": (
                200,
                {"Content-Type": "application/atom+xml"},
                atom([{**posts(base, 1)[0], "link": f"{base}/posts/0?utm_source=atom", "title": "Retitled"}]),
            ),
            "/json": (
                200,
                {"Content-Type": "application/feed+json"},
                json_feed(posts(base, 2, start=10, prefix="JSON")),
            ),
            "/broken": (200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><item>"),
            "/slow": slow(4, (200, {"Content-Type": "application/rss+xml"}, rss(posts(base, 1, start=20)))),
            "/huge": (200, {"Content-Type": "application/rss+xml"}, b"<rss>" + b" " * 600_000),
            "/private": (302, {"Location": "http://10.0.0.7/feed"}, b""),
            "/posts/*": (200, {"Content-Type": "text/html"}, b"<title>a post</title>"),
        }
    )
    company = CompanyFactory(name="Loopback")
    now = timezone.now()
    feeds = {path: Feed.objects.create(company=company, url=feed_server.url(path), next_fetch_at=now) for path in
             ["/rss", "/atom", "/json", "/broken", "/slow", "/huge", "/private"]}  # fmt: skip
    services.worker(
        INTAKE_DUE_INTERVAL_SECONDS="1",
        OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
        INTAKE_READ_TIMEOUT="1",
        INTAKE_FETCH_TIMEOUT="2",
        INTAKE_MAX_FEED_BYTES="500000",
    )

    def all_fetched():
        return not Feed.objects.filter(pk__in=[f.pk for f in feeds.values()], last_fetched_at__isnull=True).exists()

    wait_for(all_fetched, 45, "every feed to be fetched once")
    assert sorted(Candidate.objects.values_list("title", flat=True)) == [
        "JSON 10",
        "JSON 11",
        "RSS 0",
        "RSS 1",
        "RSS 2",
    ]
    state = {path: Feed.objects.get(pk=feed.pk) for path, feed in feeds.items()}
    assert [path for path, feed in state.items() if feed.failures] == ["/broken", "/slow", "/huge", "/private"]
    assert "in time" in state["/slow"].last_error and "not allowed" in state["/private"].last_error
    assert all(feed.next_fetch_at > timezone.now() + datetime.timedelta(minutes=50) for feed in state.values())

    # Due again: the RSS feed is asked conditionally and answers 304; nothing doubles.
    Feed.objects.filter(pk=feeds["/rss"].pk).update(next_fetch_at=timezone.now())
    wait_for(lambda: len(feed_server.requests_to("/rss")) == 2, 20, "the second, conditional fetch")
    assert feed_server.requests_to("/rss")[1][1]["If-None-Match"] == '"v1"'
    time.sleep(1)
    assert Candidate.objects.count() == 5
