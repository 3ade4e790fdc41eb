"""Feed documents (RSS, Atom, JSON Feed) to plain-text entries, bounded.

Everything in a feed is hostile. Titles, authors and summaries leave here as plain text:
markup removed, entities decoded, control characters dropped, cut to their field's length
before anything expensive is done with them. Links are made absolute and canonical, and
an entry without an http(s) link is skipped. The caller has already capped the document's
size; at most ``MAX_ENTRIES`` entries are read.
"""

import datetime
import io
import json
import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin

import feedparser
import nh3

from .canonical import NotAWebAddress, canonical_url
from .models import AUTHOR_MAX_LENGTH, LINK_MAX_LENGTH, SUMMARY_MAX_LENGTH, TITLE_MAX_LENGTH

MAX_ENTRIES = 200
JSON_FEED_TYPES = ("application/feed+json", "application/json")
# C0 controls but tab and newline (PostgreSQL refuses NUL in text), and Unicode's
# direction overrides, which could make a title read backwards in the inbox.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")


class FeedUnreadable(ValueError):
    """The document is not a feed this app can read."""


@dataclass(frozen=True)
class Entry:
    link: str  # canonical, tracking parameters removed
    title: str
    author: str
    summary: str
    published_at: datetime.datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: list


def plain_text(value, limit, *, markup=True):
    """Return ``value`` as plain text of at most ``limit`` characters: no control characters, and
    no markup unless ``markup`` is False (text already decoded, like an HTML attribute's)."""
    if not isinstance(value, str):
        return ""
    # Cut first: a 1 MB title costs no more than a short one. Markup and entities only
    # shrink the text, so four times the limit is enough to fill it.
    text = value[: limit * 4]
    if markup:
        text = unescape(nh3.clean(text, tags=set(), strip_comments=True))
    text = _SPACE.sub(" ", _CONTROL.sub("", text)).strip()
    return text[:limit].rstrip()


def parse_feed(body, *, content_type="", url=""):
    """Read ``body`` (bytes) as RSS, Atom or JSON Feed; raise FeedUnreadable if it is none of them."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in JSON_FEED_TYPES or body.lstrip()[:1] == b"{":
        return _parse_json_feed(body, url)
    # A file-like object, never bytes or a string: feedparser would open a string that
    # looks like a path or a URL itself.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": content_type or "application/xml", "content-location": url},
        resolve_relative_uris=False,
        sanitize_html=False,  # nothing of the markup is kept: plain_text removes it all
    )
    if not parsed.get("version") and not parsed.entries:
        raise FeedUnreadable(f"Not a feed: {_flaw(parsed, 'no RSS or Atom feed found')}")
    entries = []
    for item in parsed.entries[:MAX_ENTRIES]:
        link = _web_link(item.get("link"), url)
        if link is None:
            continue
        published = item.get("published_parsed") or item.get("updated_parsed")
        entries.append(
            Entry(
                link=link,
                title=plain_text(item.get("title"), TITLE_MAX_LENGTH) or link[:TITLE_MAX_LENGTH],
                author=plain_text(item.get("author"), AUTHOR_MAX_LENGTH),
                summary=plain_text(item.get("summary"), SUMMARY_MAX_LENGTH),
                published_at=_from_struct_time(published),
            )
        )
    # A feed with a flaw is read when it has entries (most such feeds do); a flawed one without is broken.
    if parsed.get("bozo") and not entries:
        raise FeedUnreadable(f"Not a feed: {_flaw(parsed, 'no entry with a link')}")
    return ParsedFeed(title=plain_text(parsed.feed.get("title"), 200), entries=entries)


def _flaw(parsed, default):
    return str(parsed.get("bozo_exception") or default)[:200]


def _parse_json_feed(body, url):
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise FeedUnreadable(f"Not a JSON Feed: {str(error)[:200]}") from error
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedUnreadable("Not a JSON Feed: no jsonfeed.org version")
    items = document.get("items")
    entries = []
    for item in items[:MAX_ENTRIES] if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = _web_link(item.get("url") or item.get("external_url"), url)
        if link is None:
            continue
        authors = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
        author = authors[0] if authors and isinstance(authors[0], dict) else {}
        summary = item.get("summary") or item.get("content_text") or item.get("content_html")
        entries.append(
            Entry(
                link=link,
                title=plain_text(item.get("title"), TITLE_MAX_LENGTH) or link[:TITLE_MAX_LENGTH],
                author=plain_text(author.get("name"), AUTHOR_MAX_LENGTH),
                summary=plain_text(summary, SUMMARY_MAX_LENGTH),
                published_at=_from_iso(item.get("date_published") or item.get("date_modified")),
            )
        )
    return ParsedFeed(title=plain_text(document.get("title"), 200), entries=entries)


def _web_link(link, base):
    if not isinstance(link, str) or len(link) > LINK_MAX_LENGTH:
        return None
    try:
        link = canonical_url(urljoin(base, link.strip()))
    except (NotAWebAddress, ValueError):
        return None
    return link if len(link) <= LINK_MAX_LENGTH else None


def _from_struct_time(value):
    if not value:
        return None
    try:
        return datetime.datetime(*value[:6], tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None


def _from_iso(value):
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value[:40])
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
