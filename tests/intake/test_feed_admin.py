"""The feeds' admin: health at a glance, pause and fetch now."""

import datetime

import pytest
from django.utils import timezone

from intake.models import Candidate, Feed
from tests.factories import CompanyFactory, FeedFactory

from .feed_server import rss
from .test_fetching import BLOG, posts

pytestmark = pytest.mark.django_db
FEEDS = "/admin/intake/feed/"


def test_a_failing_feed_shows_its_last_error(admin_client):
    FeedFactory(failures=3, last_error="2026-11-30 10:00 UTC: blog.example.com did not answer in time.")
    FeedFactory(title="Healthy blog")
    html = admin_client.get(FEEDS + "?failing=yes").content.decode()
    assert "did not answer in time" in html and "Healthy blog" not in html


def test_fetch_now_reads_the_feed_and_pause_stops_the_beat(
    admin_client, feed_server, django_capture_on_commit_callbacks
):
    feed_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, rss(posts(BLOG, 2)))
    feed = Feed.objects.create(company=CompanyFactory(), url=feed_server.url("/feed"), paused=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(FEEDS, {"action": "fetch_now", "_selected_action": [feed.pk]}, follow=True)
    assert "1 feeds queued" in response.content.decode()
    assert Candidate.objects.count() == 2
    admin_client.post(FEEDS, {"action": "pause", "_selected_action": [feed.pk]})
    Feed.objects.filter(pk=feed.pk).update(next_fetch_at=timezone.now())
    assert not Feed.objects.due(timezone.now()).exists()


def test_a_feed_added_in_the_admin_starts_within_its_first_interval(admin_client):
    company = CompanyFactory()
    admin_client.post(
        FEEDS + "add/",
        {"company": company.pk, "url": "https://blog.example.com/feed", "title": "", "interval": "01:00:00"},
    )
    feed = Feed.objects.get()
    assert timezone.now() - datetime.timedelta(seconds=5) <= feed.next_fetch_at <= timezone.now() + feed.interval


def test_a_feed_at_a_private_address_is_refused_when_typed(admin_client):
    response = admin_client.post(
        FEEDS + "add/",
        {"company": CompanyFactory().pk, "url": "http://169.254.169.254/latest/", "interval": "01:00:00"},
    )
    assert "not allowed" in response.content.decode() and not Feed.objects.exists()
