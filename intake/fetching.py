"""Reading feeds: the beat's round, one feed's fetch, and one post added by its address.

The database is the source of truth: each feed's ``next_fetch_at`` says when it is due.
Every minute the beat claims the due feeds (``SELECT … FOR UPDATE SKIP LOCKED``, their next
fetch moved a lease ahead) and queues one task per feed; the worker that fetches a feed sets
its next fetch an interval later, or later still after failures. A worker that dies
mid-fetch leaves the lease to run out and the feed is claimed again; a broker that is down
loses nothing either. A feed's failure is recorded on its row and never stops another feed.

Every request goes through ``outbound.request`` (the guard shared with webhooks: http(s)
only, public addresses only, the checked address connected to, timeouts, a size cap,
redirects re-checked hop by hop) with the site's User-Agent, conditionally when the feed
sent validators. New posts' links are followed through their redirects, within a count and
a time budget per fetch, so the candidate keeps the post's own address; a post seen before
is never requested again.
"""

import contextlib
import datetime
import logging
import random
import sys
import time
from html.parser import HTMLParser

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import outbound

from . import candidates
from .canonical import NotAWebAddress, canonical_url
from .models import TITLE_MAX_LENGTH, Feed
from .parsing import Entry, FeedUnreadable, parse_feed, plain_text

logger = logging.getLogger(__name__)

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"
MAX_ERROR_LENGTH = 500


class FeedFailed(Exception):
    """The feed answered, but not with a feed."""


def claim_due_feeds(*, now=None, limit=None):
    """Claim the feeds that are due and return their ids; the caller queues one fetch for each.

    Claiming moves each feed's next fetch a lease ahead, so the next beat does not queue it
    again while a worker has it, and takes it up again if that worker died.
    """
    now = now or timezone.now()
    limit = limit or settings.INTAKE_FEEDS_PER_ROUND
    with transaction.atomic():
        ids = list(Feed.objects.due(now).select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        Feed.objects.filter(pk__in=ids).update(next_fetch_at=now + _lease())
    return ids


def fetch_feed(feed_id):
    """Fetch one feed and store its new posts as candidates; return how many were new."""
    feed = Feed.objects.select_related("company").filter(pk=feed_id, paused=False).first()
    if feed is None:
        return 0  # deleted or paused since it was queued
    started = time.monotonic()
    try:
        response = outbound.request(
            feed.url,
            headers=_conditional_headers(feed),
            max_redirects=settings.INTAKE_MAX_REDIRECTS,
            max_bytes=settings.INTAKE_MAX_FEED_BYTES,
            connect_timeout=settings.INTAKE_CONNECT_TIMEOUT,
            read_timeout=settings.INTAKE_READ_TIMEOUT,
            total_timeout=settings.INTAKE_FETCH_TIMEOUT,
        )
        if response.status == 304:
            _record_success(feed, response, title=feed.title)
            return 0
        if response.status != 200:
            raise FeedFailed(f"The feed answered HTTP {response.status}.")
        parsed = parse_feed(response.body, content_type=response.headers.get("content-type", ""), url=response.url)
        fresh = candidates.unseen(parsed.entries)
        resolved = resolve_redirects([entry.link for entry in fresh], started=started)
        with transaction.atomic():
            created = candidates.store(fresh, feed=feed, resolved=resolved)
            _record_success(feed, response, title=feed.title or parsed.title)
    except (outbound.OutboundError, FeedUnreadable, FeedFailed) as error:
        _record_failure(feed, error)
        return 0
    except Exception as error:
        # Whatever else a hostile feed triggers is this feed's failure, shown on it, not a
        # task that crashes until its lease runs out, again and again, without a word.
        logger.exception("Feed %s: unexpected failure", feed.pk)
        _record_failure(feed, f"Unexpected error while reading the feed ({error.__class__.__name__}).")
        return 0
    logger.info("Feed %s: %d new of %d entries", feed.pk, created, len(parsed.entries))
    return created


def resolve_redirects(links, *, started):
    """Map each link that redirects to where it leads (canonical), within the fetch's budget.

    At most ``INTAKE_MAX_RESOLVES`` links are followed, each with ``HEAD``, and none once the
    fetch has run ``INTAKE_RESOLVE_BUDGET_SECONDS``: the rest keep the address the feed gave.
    """
    resolved = {}
    budget_end = started + settings.INTAKE_RESOLVE_BUDGET_SECONDS
    for link in links[: settings.INTAKE_MAX_RESOLVES]:
        remaining = budget_end - time.monotonic()
        if remaining <= 0.1:
            break
        try:
            response = outbound.request(
                link,
                method="HEAD",
                headers={"User-Agent": settings.INTAKE_USER_AGENT},
                max_redirects=settings.INTAKE_MAX_REDIRECTS,
                max_bytes=sys.maxsize,  # a HEAD answer has no body; its Content-Length is the page's
                connect_timeout=min(settings.INTAKE_CONNECT_TIMEOUT, remaining),
                read_timeout=min(settings.INTAKE_READ_TIMEOUT, remaining),
                total_timeout=remaining,
            )
        except outbound.OutboundError:
            continue  # the post is kept under the address its feed gave
        if response.redirects and response.status < 400:
            with contextlib.suppress(NotAWebAddress):
                resolved[link] = canonical_url(response.url)
    return resolved


def add_post(*, url, company, title="", by):
    """Add one post by its address; fetch its title unless given. Raise outbound.OutboundError when unreachable."""
    link, found_title = canonical_url(url), ""
    if not title:
        response = outbound.request(
            url,
            headers={"User-Agent": settings.INTAKE_USER_AGENT, "Accept": "text/html"},
            max_redirects=settings.INTAKE_MAX_REDIRECTS,
            max_bytes=settings.INTAKE_MAX_PAGE_BYTES,
            connect_timeout=settings.INTAKE_CONNECT_TIMEOUT,
            read_timeout=settings.INTAKE_READ_TIMEOUT,
            total_timeout=settings.INTAKE_FETCH_TIMEOUT,
        )
        if response.status != 200:
            raise outbound.OutboundError(f"The page answered HTTP {response.status}.")
        link = canonical_url(response.url)
        found_title = page_title(response.body)
    entry = Entry(
        link=link,
        title=plain_text(title or found_title, TITLE_MAX_LENGTH, markup=False) or link[:TITLE_MAX_LENGTH],
        author="",
        summary="",
        published_at=None,
    )
    return candidates.add_post(entry=entry, company=company, by=by)


def page_title(body):
    """The page's ``og:title``, or its ``<title>``, from the first 256 KB of HTML."""
    parser = _TitleParser()
    with contextlib.suppress(AssertionError):  # HTMLParser gives up on some broken markup
        parser.feed(body[: 256 * 1024].decode("utf-8", "replace"))
    return parser.og_title or parser.title


class _TitleParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title, self.og_title, self._in_title = "", "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "meta" and attrs.get("property") == "og:title" and not self.og_title:
            self.og_title = (attrs.get("content") or "")[: TITLE_MAX_LENGTH * 4]

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and len(self.title) < TITLE_MAX_LENGTH * 4:
            self.title += data


def _conditional_headers(feed):
    headers = {"User-Agent": settings.INTAKE_USER_AGENT, "Accept": FEED_ACCEPT}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return headers


def _record_success(feed, response, *, title):
    now = timezone.now()
    # update(), not save(): an editor may have changed the feed while it was fetched.
    Feed.objects.filter(pk=feed.pk).update(
        title=(title or "")[:200],
        etag=_text(response.headers.get("etag") or feed.etag)[:500],
        last_modified=_text(response.headers.get("last-modified") or feed.last_modified)[:100],
        last_fetched_at=now,
        last_success_at=now,
        failures=0,
        last_error="",
        next_fetch_at=now + _jittered(feed.interval),
    )


def _record_failure(feed, error):
    now = timezone.now()
    failures = feed.failures + 1
    # Back off: twice the wait after each failure in a row, at most INTAKE_MAX_BACKOFF.
    wait = min(feed.interval * 2 ** min(failures, 16), settings.INTAKE_MAX_BACKOFF)
    message = _text(f"{now:%Y-%m-%d %H:%M} UTC: {error}")[:MAX_ERROR_LENGTH]
    logger.warning("Feed %s (%s) failed (%d in a row): %s", feed.pk, feed.url[:200], failures, error)
    Feed.objects.filter(pk=feed.pk).update(
        last_fetched_at=now, failures=failures, last_error=message, next_fetch_at=now + _jittered(wait)
    )


def _text(value):
    """Text the feed's server wrote (a header, an error quoting it), without the NULs PostgreSQL refuses."""
    return value.replace("\x00", "")


def _jittered(interval):
    # A tenth either way keeps feeds that started together from drifting back into step.
    return interval * random.uniform(0.9, 1.1)  # noqa: S311 - spreading load, not a secret


def _lease():
    return datetime.timedelta(seconds=settings.INTAKE_FETCH_LEASE_SECONDS)
