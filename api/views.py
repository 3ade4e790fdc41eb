"""The read-only JSON API, ``/api/v1/``: published content only, from ``digest.public``.

Every list starts from the one definition of public (``Issue.objects.published()`` and
``digest.public``), as the reader's pages do, and every response is filed under the same
keys as the page that shows the same thing (``reader.keys``), so one purge drops both.
The page cache and the validators (``ETag``, ``Last-Modified``, 304) are the reader's own
(``reader.page_cache``), applied to these views in ``api.urls``.

Lists are cursor-paginated in a stable order (``api.cursors``); a page holds ``PAGE_SIZE``
items and the address of the next page. The number of queries per page does not grow
with the archive (``tests/api/test_query_counts.py``).
"""

import datetime
import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q
from django.urls import reverse
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError
from ninja.renderers import BaseRenderer

from digest.models import Issue, IssueState, Placement, Section
from digest.public import public_companies, public_stories, public_tags, public_themes
from digest.search import MARK_END, MARK_START, search_stories
from reader import keys
from reader.figures import topic_coverage
from reader.forms import MAX_QUERY_LENGTH
from reader.page_cache import add_keys

from . import cursors, schemas

PAGE_SIZE = 20  # issues and stories a page, like the site's archive and timelines
INDEX_PAGE_SIZE = 100  # companies, themes and tags a page
# Far past any archive's search results; a cursor beyond it was not written by the API (and
# PostgreSQL refuses an OFFSET past a bigint with an error).
MAX_SEARCH_OFFSET = 1_000_000
# A slug in a path or a filter: any characters but the slash and control characters
# (taggit's slugs may be Unicode; PostgreSQL refuses a NUL in a query).
SLUG_PATTERN = r"^[^/\x00-\x1f\x7f]{1,300}$"
ERRORS = {400: schemas.Error, 404: schemas.Error, 429: schemas.Error}

# The characters that could end a <script> element if a client pastes the JSON into a page.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


class EscapedJSONRenderer(BaseRenderer):
    """JSON with ``<``, ``>`` and ``&`` escaped, as Django's ``json_script`` does: same data, no markup."""

    media_type = "application/json"

    def render(self, request, data, *, response_status):
        return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES).encode()


class DigestAPI(NinjaAPI):
    """The API, whose OpenAPI document also describes the webhooks' payloads (OpenAPI 3.1 ``webhooks``).

    The webhooks room documents each of its event types with ``document_webhook`` (this room
    does not know them).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.webhooks = {}

    def get_openapi_operation_id(self, operation):
        return operation.view_func.__name__  # "issue_detail", not the module's path

    def document_webhook(self, name, *, description, schema):
        self.webhooks[name] = (description, schema)

    def get_openapi_schema(self, **kwargs):
        document = super().get_openapi_schema(**kwargs)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        webhooks = {}
        for name, (description, schema) in sorted(self.webhooks.items()):
            json_schema = schema.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(json_schema.pop("$defs", {}))
            components[schema.__name__] = json_schema
            webhooks[name] = {
                "post": {
                    "operationId": f"webhook_{name.replace('.', '_')}",
                    "summary": name,
                    "description": f"{description} Signed as Standard Webhooks specifies: verify "
                    "`webhook-signature` over `webhook-id.webhook-timestamp.body` before trusting it. The same "
                    "`webhook-id` comes with every retry of one delivery: drop the duplicates.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}
                        },
                    },
                    "responses": {"2XX": {"description": "Received. Any other answer is retried with backoff."}},
                }
            }
        if webhooks:
            document["webhooks"] = webhooks
        return document


api = DigestAPI(
    title="Engineering @ Scale API",
    version="1",
    description=(
        "Read-only JSON for every published issue, story, company, theme and tag of the "
        "Engineering @ Scale digest. Lists are newest first (names A to Z for the indexes), "
        "with cursor pagination: follow `next`. Responses carry `ETag` and `Last-Modified` "
        "and answer conditional requests with 304. Anonymous clients are rate-limited per "
        "address: a 429 says how long to wait in `Retry-After`. A withdrawn issue answers 410."
    ),
    urls_namespace="api",
    docs_url=None,  # the docs page is our own (api.docs), from our static files
    openapi_url="/openapi.json",
    renderer=EscapedJSONRenderer(),
)


@api.exception_handler(ValidationError)
def invalid_request(request, error):
    """Say in one sentence which parameter is wrong, with the API's one error shape."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'][1:]) or problem['loc'][0]}: {problem['msg']}"
        for problem in error.errors
    )
    return api.create_response(request, {"detail": f"Invalid request: {problems}"}, status=400)


@api.exception_handler(cursors.InvalidCursor)
def invalid_cursor(request, error):
    return api.create_response(request, {"detail": str(error)}, status=400)


# Serialising --------------------------------------------------------------------------------


class _Urls:
    """Absolute addresses on the host the request came to, without a reverse() per item."""

    def __init__(self, request):
        self.base = request.build_absolute_uri("/")[:-1]

    def __call__(self, path):
        return self.base + path


def _named(urls, obj, path):
    return {"slug": obj.slug, "name": obj.name, "url": urls(path)}


def _story(urls, story, issue):
    issue_path = f"/issues/{issue.slug}/"
    placement = story.placement
    return {
        "slug": story.slug,
        "title": story.title,
        "url": urls(f"{issue_path}#{story.slug}"),
        "section": Section(placement.section).label,
        "position": placement.position,
        "issue": {"number": issue.number, "slug": issue.slug, "title": issue.title, "url": urls(issue_path)},
        "summary": {"html": story.summary_html, "markdown": story.summary},
        "companies": [_named(urls, company, f"/companies/{company.slug}/") for company in story.company_list],
        "themes": [_named(urls, theme, f"/themes/{theme.slug}/") for theme in story.theme_list],
        "tags": [_named(urls, tag, reverse("tag_detail", kwargs={"slug": tag.slug})) for tag in story.tag_list],
        "sources": [
            {"title": source.title, "publisher": source.publisher, "url": source.url} for source in story.source_list
        ],
    }


# Each story's companies, themes, tags and sources: four queries for a whole page.
STORY_RELATIONS = (
    Prefetch("companies", to_attr="company_list"),
    Prefetch("themes", to_attr="theme_list"),
    Prefetch("tags", to_attr="tag_list"),
    Prefetch("sources", to_attr="source_list"),
)


def _issue_summary(urls, issue):
    return {
        "number": issue.number,
        "slug": issue.slug,
        "title": issue.title,
        "url": urls(f"/issues/{issue.slug}/"),
        "api_url": urls(f"/api/v1/issues/{issue.slug}/"),
        "week_start": issue.week_start,
        "week_end": issue.week_end,
        "published_at": issue.published_at,
    }


def _next_page(request, items, cursor_of, parameters, size):
    """Return the page's items and the address of the next page (None on the last).

    ``items`` holds one item more than a page when there is a next page. ``parameters`` are
    the request's other query parameters, written in the order the page cache expects.
    """
    items = list(items)
    if len(items) <= size:
        return items, None
    items = items[:size]
    query = urlencode([*((name, value) for name, value in parameters if value), ("cursor", cursor_of(items[-1]))])
    return items, request.build_absolute_uri(f"{request.path}?{query}")


def _published_issue_or_error(slug):
    issue = Issue.objects.published().filter(slug=slug).first()
    if issue is not None:
        return issue
    if Issue.objects.filter(slug=slug, state=IssueState.WITHDRAWN).exists():
        raise HttpError(410, "This issue was withdrawn.")
    raise HttpError(404, "No published issue has this slug.")


Slug = Path(..., pattern=SLUG_PATTERN)
Cursor = Query(
    None,
    max_length=cursors.MAX_CURSOR_LENGTH,
    pattern=r"^[A-Za-z0-9_-]+$",
    description="Opaque: the cursor in a page's `next` address. One the API did not write is a 400.",
)
FilterSlug = Query(None, pattern=SLUG_PATTERN)
Since = Query(None, description="Stories of issues whose week starts on or after this day.")
Until = Query(None, description="Stories of issues whose week starts on or before this day.")


# Issues -------------------------------------------------------------------------------------


@api.get("/issues/", response={200: schemas.IssuePage, **ERRORS}, url_name="issue_list", tags=["issues"])
def issue_list(request, cursor: str | None = Cursor):
    """Published issues, newest first."""
    add_keys(request, keys.ISSUES)
    issues = Issue.objects.published().defer(*Issue.LONG_TEXT_FIELDS).order_by("-week_start", "-number")
    if cursor:
        week_start, number = cursors.decode(cursor, str, int)
        week_start = _date(week_start)
        issues = issues.filter(Q(week_start__lt=week_start) | Q(week_start=week_start, number__lt=number))
    page, next_url = _next_page(
        request, issues[: PAGE_SIZE + 1], lambda issue: cursors.encode(str(issue.week_start), issue.number), [],
        PAGE_SIZE,
    )  # fmt: skip
    urls = _Urls(request)
    return {"items": [_issue_summary(urls, issue) for issue in page], "next": next_url}


@api.get(
    "/issues/{slug}/",
    response={200: schemas.IssueDetail, 410: schemas.Error, **ERRORS},
    url_name="issue_detail",
    tags=["issues"],
)
def issue_detail(request, slug: str = Slug):
    """One published issue: its texts, then its sections' stories in reading order, its PDF and corrections."""
    issue = _published_issue_or_error(slug)
    add_keys(request, keys.issue_key(issue.pk))
    placements = (
        Placement.objects.filter(issue=issue)
        .select_related("story")
        .prefetch_related(*(Prefetch(f"story__{p.prefetch_through}", to_attr=p.to_attr) for p in STORY_RELATIONS))
        .order_by("section", "position", "id")
    )
    urls = _Urls(request)
    stories_by_section = {section: [] for section in Section}
    for placement in placements:
        story = placement.story
        story.placement = placement
        stories_by_section[placement.section].append(_story(urls, story, issue))
    return {
        **_issue_summary(urls, issue),
        "updated_at": issue.updated_at,
        "week_in_review": {"html": issue.week_in_review_html, "markdown": issue.week_in_review},
        "patterns": {"html": issue.patterns_html, "markdown": issue.patterns},
        "sections": [{"name": section.label, "stories": stories} for section, stories in stories_by_section.items()],
        "pdf": {
            "url": urls(reverse("issue_pdf", kwargs={"slug": issue.slug})),
            "size": issue.pdf_size,
            "content_hash": issue.pdf_content_hash,
        }
        if issue.pdf
        else None,
        "corrections": [{"date": c.created_at, "note": c.note} for c in issue.corrections.all()],
    }


# Stories ------------------------------------------------------------------------------------


@api.get("/stories/", response={200: schemas.StoryPage, **ERRORS}, url_name="story_list", tags=["stories"])
def story_list(
    request,
    company: str | None = FilterSlug,
    theme: str | None = FilterSlug,
    tag: str | None = FilterSlug,
    since: datetime.date | None = Since,
    until: datetime.date | None = Until,
    cursor: str | None = Cursor,
):
    """Published stories, newest issue first, in reading order within one; by company, theme, tag or dates."""
    stories = public_stories()
    filed = False
    for name, slug, topics, relation, key in (
        ("company", company, public_companies(), "companies", keys.company_key),
        ("theme", theme, public_themes(), "themes", keys.theme_key),
        ("tag", tag, public_tags(), "tags", keys.tag_key),
    ):
        if slug is None:
            continue
        topic = topics.filter(slug=slug).first()
        if topic is None:
            raise HttpError(404, f"No published story has this {name}.")
        stories = stories.filter(**{relation: topic})
        add_keys(request, key(topic.pk))
        filed = True
    if not filed or since or until:
        add_keys(request, keys.ISSUES)  # any publication may add to it
    if since:
        stories = stories.filter(placement__issue__week_start__gte=since)
    if until:
        stories = stories.filter(placement__issue__week_start__lte=until)
    if cursor:
        week_start, number, section, position, pk = cursors.decode(cursor, str, int, int, int, int)
        week_start = _date(week_start)
        at = "placement__issue__"
        same_issue = Q(**{f"{at}week_start": week_start, f"{at}number": number})
        stories = stories.filter(
            Q(**{f"{at}week_start__lt": week_start})
            | Q(**{f"{at}week_start": week_start, f"{at}number__lt": number})
            | (same_issue & Q(placement__section__gt=section))
            | (same_issue & Q(placement__section=section, placement__position__gt=position))
            | (same_issue & Q(placement__section=section, placement__position=position, pk__gt=pk))
        )
    stories = (
        stories.defer("search_vector", *(f"placement__issue__{field}" for field in Issue.LONG_TEXT_FIELDS))
        .prefetch_related(*STORY_RELATIONS)
        .order_by(
            "-placement__issue__week_start",
            "-placement__issue__number",
            "placement__section",
            "placement__position",
            "pk",
        )
    )
    parameters = [("company", company), ("theme", theme), ("tag", tag), ("since", since and str(since)),
                  ("until", until and str(until))]  # fmt: skip
    page, next_url = _next_page(request, stories[: PAGE_SIZE + 1], _story_cursor, parameters, PAGE_SIZE)
    urls = _Urls(request)
    return {"items": [_story(urls, story, story.placement.issue) for story in page], "next": next_url}


def _story_cursor(story):
    placement, issue = story.placement, story.placement.issue
    return cursors.encode(str(issue.week_start), issue.number, placement.section, placement.position, story.pk)


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise cursors.InvalidCursor("This cursor is not one the API wrote: use the `next` address of a page.") from None


# Companies, themes, tags --------------------------------------------------------------------


def _index(request, objects, cursor, to_item):
    objects = objects.order_by("name")
    if cursor:
        (name,) = cursors.decode(cursor, str)
        objects = objects.filter(name__gt=name)
    page, next_url = _next_page(
        request, objects[: INDEX_PAGE_SIZE + 1], lambda obj: cursors.encode(obj.name), [], INDEX_PAGE_SIZE
    )
    urls = _Urls(request)
    return {"items": [to_item(urls, obj) for obj in page], "next": next_url}


def _company_summary(urls, company):
    return {
        **_named(urls, company, f"/companies/{company.slug}/"),
        "api_url": urls(f"/api/v1/companies/{company.slug}/"),
        "website": company.website,
    }


@api.get("/companies/", response={200: schemas.CompanyPage, **ERRORS}, url_name="company_list", tags=["companies"])
def company_list(request, cursor: str | None = Cursor):
    """Companies named by a published story, A to Z."""
    add_keys(request, keys.COMPANIES)
    return _index(request, public_companies(), cursor, _company_summary)


@api.get(
    "/companies/{slug}/", response={200: schemas.CompanyDetail, **ERRORS}, url_name="company_detail", tags=["companies"]
)
def company_detail(request, slug: str = Slug):
    """A company named by a published story: its parent, subsidiaries and coverage."""
    company = public_companies().filter(slug=slug).first()
    if company is None:
        raise HttpError(404, "No published story involves this company.")
    public = public_companies().order_by("name")
    parent = public.filter(pk=company.parent_id).first() if company.parent_id else None
    subsidiaries = list(public.filter(parent=company))
    relatives = [parent, *subsidiaries] if parent else subsidiaries
    add_keys(request, keys.company_key(company.pk), *(keys.company_key(other.pk) for other in relatives))
    stats = topic_coverage(company, keys.company_key(company.pk))
    urls = _Urls(request)
    return {
        **_company_summary(urls, company),
        "description": company.description,
        "parent": _named(urls, parent, f"/companies/{parent.slug}/") if parent else None,
        "subsidiaries": [_named(urls, other, f"/companies/{other.slug}/") for other in subsidiaries],
        "story_count": stats["count"],
        "since": stats["since"],
        "stories_url": urls(f"/api/v1/stories/?{urlencode({'company': company.slug})}"),
    }


def _theme_summary(urls, theme):
    return {**_named(urls, theme, f"/themes/{theme.slug}/"), "api_url": urls(f"/api/v1/themes/{theme.slug}/")}


def _tag_summary(urls, tag):
    return {
        **_named(urls, tag, reverse("tag_detail", kwargs={"slug": tag.slug})),
        "api_url": urls(reverse("api:tag_detail", kwargs={"slug": tag.slug})),
    }


@api.get("/themes/", response={200: schemas.TopicPage, **ERRORS}, url_name="theme_list", tags=["themes and tags"])
def theme_list(request, cursor: str | None = Cursor):
    """Themes of published stories, A to Z."""
    add_keys(request, keys.THEMES)
    return _index(request, public_themes(), cursor, _theme_summary)


@api.get(
    "/themes/{slug}/", response={200: schemas.TopicDetail, **ERRORS}, url_name="theme_detail", tags=["themes and tags"]
)
def theme_detail(request, slug: str = Slug):
    """A theme of published stories, with its coverage."""
    theme = public_themes().filter(slug=slug).first()
    if theme is None:
        raise HttpError(404, "No published story has this theme.")
    add_keys(request, keys.theme_key(theme.pk))
    return _topic_detail(
        request, theme, keys.theme_key(theme.pk), _theme_summary, description=theme.description, filter_name="theme"
    )


@api.get("/tags/", response={200: schemas.TopicPage, **ERRORS}, url_name="tag_list", tags=["themes and tags"])
def tag_list(request, cursor: str | None = Cursor):
    """Tags of published stories, A to Z."""
    add_keys(request, keys.TAGS)
    return _index(request, public_tags(), cursor, _tag_summary)


@api.get(
    "/tags/{slug}/", response={200: schemas.TopicDetail, **ERRORS}, url_name="tag_detail", tags=["themes and tags"]
)
def tag_detail(request, slug: str = Slug):
    """A tag of published stories, with its coverage."""
    tag = public_tags().filter(slug=slug).first()
    if tag is None:
        raise HttpError(404, "No published story has this tag.")
    add_keys(request, keys.tag_key(tag.pk))
    return _topic_detail(request, tag, keys.tag_key(tag.pk), _tag_summary, description="", filter_name="tag")


def _topic_detail(request, topic, key, summary, *, description, filter_name):
    stats = topic_coverage(topic, key)
    urls = _Urls(request)
    return {
        **summary(urls, topic),
        "description": description,
        "story_count": stats["count"],
        "since": stats["since"],
        "stories_url": urls(f"/api/v1/stories/?{urlencode({filter_name: topic.slug})}"),
    }


# Search -------------------------------------------------------------------------------------


@api.get("/search/", response={200: schemas.SearchPage, **ERRORS}, url_name="search", tags=["stories"])
def search(
    request,
    q: str = Query(..., min_length=1, max_length=MAX_QUERY_LENGTH, pattern=r"^[^\x00]*[^\s\x00][^\x00]*$"),
    cursor: str | None = Cursor,
):
    """Full-text search over published stories, as the site's search: best match first."""
    offset = cursors.decode(cursor, int)[0] if cursor else 0
    if not 0 <= offset <= MAX_SEARCH_OFFSET or offset % PAGE_SIZE:
        raise cursors.InvalidCursor("This cursor is not one the API wrote: use the `next` address of a page.")
    results = search_stories(q).defer("search_vector").prefetch_related(*STORY_RELATIONS)
    page, next_url = _next_page(
        request, results[offset : offset + PAGE_SIZE + 1], lambda _: cursors.encode(offset + PAGE_SIZE),
        [("q", q)], PAGE_SIZE,
    )  # fmt: skip
    urls = _Urls(request)
    items = []
    for story in page:
        snippet = (story.snippet_marked or "").replace(MARK_START, "").replace(MARK_END, "")
        items.append({**_story(urls, story, story.placement.issue), "snippet": snippet})
    return {"items": items, "next": next_url}
