"""The reader's search over public stories and issues.

On PostgreSQL: full-text search on each story's stored vector (``stories.search_vector``),
ranked, with ``ts_headline`` snippets. Issues are few (one a week), so their texts are
searched with a vector computed in the query rather than a stored one. Elsewhere (SQLite
in the quick start) a plain fallback: every word must appear somewhere, newest first.

Snippets are user text: the database marks the matches with private-use characters, the
text is escaped, and only then do the marks become ``<mark>`` elements.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, Q, TextField, Value, Window
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import mark_safe

from companies.models import Company
from stories.models import Story
from stories.search_vector import SEARCH_CONFIG

from .models import Issue, issue_search_vector
from .public import newest_first, public_stories

MARK_START, MARK_END = "\ue000", "\ue001"
MAX_FALLBACK_WORDS = 8
SNIPPET_LENGTH = 240
_HEADLINE_OPTIONS = {
    "config": SEARCH_CONFIG,
    "start_sel": MARK_START,
    "stop_sel": MARK_END,
    "max_words": 35,
    "min_words": 15,
    "max_fragments": 2,
    "fragment_delimiter": " … ",
}


def full_text_available():
    return connection.vendor == "postgresql"


def search_stories(query, *, company=None, theme=None, year=None):
    """Return public stories matching ``query`` and the filters, best match first.

    Each story has ``title_marked`` and ``snippet_marked`` (text with match marks, or None)
    for ``highlighted()``. An empty query lists the filtered stories newest first.
    """
    stories = public_stories()
    if company is not None:
        stories = stories.filter(companies=company)
    if theme is not None:
        stories = stories.filter(themes=theme)
    if year is not None:
        stories = stories.filter(placement__issue__week_start__year=year)
    if not query:
        return newest_first(stories).annotate(
            title_marked=Value(None, TextField()), snippet_marked=Value(None, TextField())
        )
    if full_text_available():
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        return (
            stories.filter(search_vector=search_query)
            .annotate(
                rank=SearchRank(F("search_vector"), search_query),
                title_marked=SearchHeadline("title", search_query, highlight_all=True, **_HEADLINE_OPTIONS),
                snippet_marked=SearchHeadline("summary", search_query, **_HEADLINE_OPTIONS),
            )
            # Equal ranks in reading order, down to the story: pages fetched apart never repeat or skip one.
            .order_by(
                "-rank",
                "-placement__issue__week_start",
                "-placement__issue__number",
                "placement__section",
                "placement__position",
                "pk",
            )
        )
    for word in _words(query):
        matching = Story.objects.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(companies__name__icontains=word)
            | Q(sources__title__icontains=word)
            | Q(sources__publisher__icontains=word)
        )
        stories = stories.filter(pk__in=matching.values("pk"))
    return newest_first(stories).annotate(title_marked=F("title"), snippet_marked=F("summary"))


@dataclass
class SearchResult:
    """One story of a page of results: what a result shows, and nothing more.

    ``title_marked`` and ``snippet_marked`` carry the match marks (or None) for ``highlighted()``.
    """

    pk: int
    title: str
    slug: str
    title_marked: str | None
    snippet_marked: str | None
    issue: Issue
    companies: list = field(default_factory=list)


_RESULT_FIELDS = ("pk", "title", "slug", "title_marked", "snippet_marked")
_ISSUE_FIELDS = ("number", "slug", "week_start")


def ranked_page(stories, *, offset, limit):
    """Return how many ``stories`` (from ``search_stories``) there are, and ``limit`` of them from ``offset``.

    The ranking carries only ids through the sort, with the count of every match beside
    them, in one query (a list newest first is counted apart); the page's stories are then
    read by id, and only their twenty snippets are made (``ts_headline`` is the costly part
    of a search, and a query that made them beside the ranking would make one for every row
    it skips to reach a deep page). Their companies come from one more query of the link table. Each result is a
    ``SearchResult``: Django's model loading and prefetching cost more than the queries here
    (the API, which shows more, reads ``search_stories`` itself). A page past the last one
    counts nothing: it has no results and a count of 0.
    """
    if "rank" in stories.query.annotations:
        # Ranked by the words: the sort reads every match anyway, so the count comes with it.
        counted = stories.annotate(matches=Window(Count("*"))).values_list("pk", "matches")
        ranked = list(counted[offset : offset + limit])
        count, ids = (ranked[0][1] if ranked else 0), [pk for pk, _ in ranked]
    else:
        # Newest first (filters only, or SQLite): the reading-order index stops the scan at the page,
        # which a count beside it would not (company with 14,000 stories: 82 ms, apart 24 + 3 ms).
        count = stories.count()
        ids = list(stories.values_list("pk", flat=True)[offset : offset + limit]) if offset < count else []
    if not ids:
        return 0, []
    issue_fields = [f"placement__issue__{name}" for name in _ISSUE_FIELDS]
    rows = stories.filter(pk__in=ids).order_by().values_list(*_RESULT_FIELDS, *issue_fields)
    split = len(_RESULT_FIELDS)
    results = {
        row[0]: SearchResult(*row[:split], issue=Issue(**dict(zip(_ISSUE_FIELDS, row[split:], strict=True))))
        for row in rows
    }
    # In the companies' own order (their Meta.ordering), as story.companies.all() gives them.
    links = Story.companies.through.objects.filter(story__in=results).order_by("company", "company_id")
    for story_id, name, slug in links.values_list("story_id", "company__name", "company__slug"):
        results[story_id].companies.append(Company(name=name, slug=slug))
    return count, [results[pk] for pk in ids if pk in results]  # one withdrawn meanwhile is left out


def search_issues(query, *, year=None, limit=5):
    """Return up to ``limit`` published issues whose own texts match ``query``, best first.

    Each has ``snippet_marked``: its Week in Review and Patterns with match marks; only
    what a result shows is read.
    """
    issues = Issue.objects.published().only("number", "title", "slug", "week_start")
    if year is not None:
        issues = issues.filter(week_start__year=year)
    texts = Concat("week_in_review", Value("\n\n"), "patterns", output_field=TextField())
    if full_text_available():
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        return (
            issues.alias(document=issue_search_vector())
            .filter(document=search_query)
            .annotate(
                rank=SearchRank(F("document"), search_query),
                snippet_marked=SearchHeadline(texts, search_query, **_HEADLINE_OPTIONS),
            )
            .order_by("-rank", "-week_start", "-number")[:limit]
        )
    for word in _words(query):
        issues = issues.filter(
            Q(title__icontains=word) | Q(week_in_review__icontains=word) | Q(patterns__icontains=word)
        )
    return issues.annotate(snippet_marked=texts).order_by("-week_start", "-number")[:limit]


def highlighted(results, query):
    """Set ``title_html`` and ``snippet_html`` on each result: escaped text, matches in <mark>."""
    results = list(results)
    for result in results:
        title, snippet = getattr(result, "title_marked", None), result.snippet_marked
        if not full_text_available():
            title = _mark_words(title, query) if title else title
            snippet = _mark_words(_excerpt(snippet, query), query) if snippet else snippet
        result.title_html = _marks_to_html(title) if title else escape(getattr(result, "title", ""))
        result.snippet_html = _marks_to_html(_plain(snippet)) if snippet else ""
    return results


def _words(query):
    words = [word.strip("\"'") for word in query.split()]
    return [word for word in words if word][:MAX_FALLBACK_WORDS] or [query]


def _excerpt(text, query):
    """Cut ``text`` to a window around the first word of ``query`` it contains."""
    lowered = text.lower()
    positions = [lowered.find(word.lower()) for word in _words(query)]
    first = min((position for position in positions if position >= 0), default=0)
    start = max(0, first - SNIPPET_LENGTH // 3)
    end = start + SNIPPET_LENGTH
    # Cut at spaces, never inside a word.
    if start:
        start = text.find(" ", start, first) + 1 or first
    if end < len(text):
        end = text.rfind(" ", first, end) if text.rfind(" ", first, end) > first else end
    return ("… " if start else "") + text[start:end].strip() + (" …" if end < len(text) else "")


def _mark_words(text, query):
    pattern = "|".join(re.escape(word) for word in _words(query))
    return re.sub(f"({pattern})", rf"{MARK_START}\1{MARK_END}", _unmarked(text), flags=re.IGNORECASE)


def _unmarked(text):
    return text.replace(MARK_START, "").replace(MARK_END, "")


_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_EMPHASIS = re.compile(r"[*`]{1,3}|^#{1,6}\s+", re.MULTILINE)


def _plain(markdown_text):
    """Drop the Markdown syntax a snippet would otherwise show literally."""
    return _MARKDOWN_EMPHASIS.sub("", _MARKDOWN_LINK.sub(r"\1", markdown_text))


def _marks_to_html(marked_text):
    """Escape the text, then turn balanced match marks into <mark> elements."""
    parts, inside = [], False
    for part in re.split(f"([{MARK_START}{MARK_END}])", marked_text):
        if part == MARK_START and not inside:
            parts.append("<mark>")
            inside = True
        elif part == MARK_END and inside:
            parts.append("</mark>")
            inside = False
        elif part not in (MARK_START, MARK_END):
            parts.append(escape(part))
    if inside:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text was escaped above
