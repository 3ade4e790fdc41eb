"""Feeds of companies' engineering blogs, and the posts found in them waiting as candidates."""

import datetime
import random

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from companies.models import web_url_validator
from stories.models import Story

# A candidate's title becomes a story's title: cut to the same length.
TITLE_MAX_LENGTH = Story._meta.get_field("title").max_length
LINK_MAX_LENGTH = 1000
AUTHOR_MAX_LENGTH = 200
# Enough to decide whether a post is worth a story; the post itself is one click away.
SUMMARY_MAX_LENGTH = 2000


class FeedQuerySet(models.QuerySet):
    def due(self, now):
        """Feeds whose next fetch time has come, not paused, most overdue first."""
        return self.filter(paused=False, next_fetch_at__lte=now).order_by("next_fetch_at", "pk")


class Feed(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="feeds")
    url = models.URLField(
        "URL",
        max_length=LINK_MAX_LENGTH,
        unique=True,
        validators=[web_url_validator],
        help_text="RSS, Atom or JSON Feed; http or https only.",
    )
    title = models.CharField(max_length=200, blank=True, help_text="Taken from the feed when left blank.")
    interval = models.DurationField(
        default=datetime.timedelta(hours=1), help_text="How often the feed is read (hh:mm:ss). At least five minutes."
    )
    paused = models.BooleanField(default=False, help_text="A paused feed is not read until resumed.")
    next_fetch_at = models.DateTimeField(
        default=timezone.now, help_text="When the beat next hands this feed to a worker."
    )
    # Conditional requests: the validators the feed's server last sent.
    etag = models.CharField(max_length=500, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    failures = models.PositiveIntegerField(default=0, editable=False, help_text="Failed reads in a row.")
    last_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeedQuerySet.as_manager()

    class Meta:
        ordering = ["company__name", "url"]
        indexes = [
            # The beat's question every minute: which unpaused feeds are due?
            models.Index(fields=["next_fetch_at"], condition=models.Q(paused=False), name="feed_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval__gte=datetime.timedelta(minutes=5)), name="feed_interval_at_least_5_minutes"
            ),
        ]

    def __str__(self):
        return self.title or self.url

    def spread_first_fetch(self):
        """Start at a random point of the first interval, so feeds imported together do not all start at once."""
        self.next_fetch_at = timezone.now() + self.interval * random.random()  # noqa: S311 - spreading load, not a secret


class CandidateState(models.TextChoices):
    NEW = "new", "New"
    KEPT = "kept", "Kept"
    DISMISSED = "dismissed", "Dismissed"
    USED = "used", "Used"


class CandidateQuerySet(models.QuerySet):
    def newest_first(self):
        return self.order_by("-dated_at", "-pk")

    def not_yet_used(self):
        return self.filter(state__in=[CandidateState.NEW, CandidateState.KEPT])

    def dated_between(self, start, end):
        """Candidates dated on the days from ``start`` to ``end`` (dates, inclusive), in the site's time zone."""
        zone = timezone.get_current_timezone()
        queryset = self
        since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
        if _in_utc_range(since):  # at the calendar's ends a day may begin outside what UTC can express
            queryset = queryset.filter(dated_at__gte=since)
        elif start.year == datetime.MAXYEAR:
            return queryset.none()
        if end != datetime.date.max:  # the calendar's last day has no day after it
            until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
            if _in_utc_range(until):
                queryset = queryset.filter(dated_at__lt=until)
        return queryset


def _in_utc_range(moment):
    try:
        moment.astimezone(datetime.UTC)
    except OverflowError:
        return False
    return True


class Candidate(models.Model):
    """A post found in a feed (or added by URL), waiting for an editor to make a story of it or dismiss it.

    Everything but ``state`` and ``story`` comes from outside and is hostile: it is stored as
    plain text and shown escaped, the summary through the stories' sanitiser.
    """

    # The post's canonical address (tracking parameters removed, redirects resolved): one post, one candidate.
    link = models.URLField(max_length=LINK_MAX_LENGTH, unique=True)
    # The address as the feed lists it, tracking parameters removed: a post seen again is
    # recognised without following its redirects again.
    listed_link = models.URLField(max_length=LINK_MAX_LENGTH, db_index=True)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH, blank=True)
    summary = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="As the feed says.")
    found_at = models.DateTimeField(default=timezone.now)
    # The inbox's order: the published time, unless missing or later than when it was found
    # (a feed's clock may be wrong or its dates invented).
    dated_at = models.DateTimeField(default=timezone.now)
    feed = models.ForeignKey(Feed, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates")
    company = models.ForeignKey(
        "companies.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates"
    )
    state = models.CharField(max_length=10, choices=CandidateState.choices, default=CandidateState.NEW)
    story = models.ForeignKey(
        "stories.Story", null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who added it by URL; empty for posts found in feeds.",
    )

    objects = CandidateQuerySet.as_manager()

    class Meta:
        ordering = ["-dated_at", "-pk"]
        indexes = [
            models.Index(fields=["-dated_at", "-id"], name="candidate_newest_first"),
            models.Index(fields=["state", "-dated_at", "-id"], name="candidate_state_newest_first"),
            models.Index(fields=["company", "-dated_at", "-id"], name="candidate_company_newest_first"),
            models.Index(fields=["feed", "-dated_at", "-id"], name="candidate_feed_newest_first"),
            # The inbox's text search (``icontains``, which compares in upper case) on trigrams.
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="candidate_title_trigram"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.dated_at = inbox_date(self.published_at, self.found_at)
        super().save(*args, **kwargs)


def inbox_date(published_at, found_at):
    """When a post counts as dated in the inbox: its published time, unless missing or after it was found."""
    return published_at if published_at is not None and published_at < found_at else found_at
