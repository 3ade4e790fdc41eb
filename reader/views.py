"""The reader site: every public page starts from ``Issue.objects.published()``.

The page of one issue is built by the core (``digest.issue_page``), which the newsroom's
staff preview shares; the rest of the site is built here.
"""

from itertools import groupby
from string import ascii_uppercase

from django.core.paginator import InvalidPage, Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from taggit.models import Tag

from companies.models import Company
from digest.issue_page import issue_page, render_issue_body
from digest.models import Issue, IssueState, Placement, Section
from digest.previews import InvalidShareLink, issue_for_share_token
from digest.public import company_index, newest, public_stories, with_story_counts
from digest.search import highlighted, ranked_page, search_issues, search_stories
from stories.models import Theme

from . import keys
from .figures import company_page_figures, topic_coverage
from .forms import SearchForm
from .page_cache import add_keys, cache_public_page, page_number, public_page

ARCHIVE_PAGE_SIZE = 20
TIMELINE_PAGE_SIZE = 20  # like the archive and search
COMPANY_INDEX_PAGE_SIZE = 120
INDEX_LETTERS = ["#", *ascii_uppercase]
ALONGSIDE_WINDOW = 200  # a company's latest stories that "Often covered alongside" counts
SEARCH_PAGE_SIZE = 20
MAX_SEARCH_PAGE = 100_000  # past any archive's results; an offset PostgreSQL can hold


def _page(request, items, per_page):
    """Return the page of ``items`` that ?page= asks for; a page that does not exist is a 404."""
    try:
        return Paginator(items, per_page).page(request.GET.get("page", 1))
    except InvalidPage as error:
        raise Http404(f"There is no such page: {error}") from None


@require_safe
@cache_public_page
def home(request):
    add_keys(request, keys.ISSUES)  # the latest issue: a publication or a withdrawal changes which
    issue = Issue.objects.select_related("stored_body").latest_published()
    if issue is None:
        return render(request, "digest/issue_none.html")
    return _filed_issue_page(request, issue)


@require_safe
@cache_public_page
def issue_detail(request, slug):
    issue = Issue.objects.published().filter(slug=slug).select_related("stored_body").first()
    if issue is not None:
        return _filed_issue_page(request, issue)
    if Issue.objects.filter(slug=slug, state=IssueState.WITHDRAWN).exists():
        return render(request, "410.html", status=410)
    raise Http404("No published issue at this address.")


def _filed_issue_page(request, issue):
    """Render a published issue's page from its stored body, filed under its issue and its neighbours' links.

    A body that is stale or not built yet is rendered afresh (``reader.issue_bodies``). The
    companies, themes and tags it names are not among its keys (forty stories of twenty tags
    each would not fit a header): a change to one of them purges the issues naming it.
    """
    stored = getattr(issue, "stored_body", None)
    body = stored if stored is not None and stored.is_current else render_issue_body(issue)
    linked = (body.previous_issue_id, body.next_issue_id)
    add_keys(request, keys.issue_key(issue.pk), *(keys.issue_link_key(pk) for pk in linked if pk))
    return issue_page(request, issue, body=body)


@require_safe
def issue_share_preview(request, token):
    # Never through the page cache: a preview is private and shows unpublished work.
    try:
        issue = issue_for_share_token(token)
    except InvalidShareLink:
        return render(request, "digest/share_link_invalid.html", status=403)
    return issue_page(request, issue, preview=True)


@require_safe
@cache_public_page(query={"page": page_number})
def issue_archive(request):
    top_stories = Prefetch(
        "placements",
        queryset=Placement.objects.filter(section=Section.TOP_STORIES)
        .select_related("story")
        .order_by("position", "id"),
        to_attr="top_placements",
    )
    add_keys(request, keys.ISSUES)
    issues = Issue.objects.published().order_by("-week_start", "-number").prefetch_related(top_stories)
    page = _page(request, issues, ARCHIVE_PAGE_SIZE)
    years = [
        (year, list(issues)) for year, issues in groupby(page.object_list, key=lambda issue: issue.week_start.year)
    ]
    return render(request, "digest/issue_archive.html", {"page": page, "years": years})


@require_safe
@cache_public_page(query={"letter": INDEX_LETTERS.__contains__, "page": page_number})
def company_list(request):
    add_keys(request, keys.COMPANIES)
    letter = request.GET.get("letter", "").upper()
    if letter and letter not in INDEX_LETTERS:
        raise Http404("The company index has a page for each letter from A to Z, and # for the rest.")
    page = _page(request, company_index(initial=letter), COMPANY_INDEX_PAGE_SIZE)
    companies = with_story_counts(page.object_list)
    groups = [(initial, list(group)) for initial, group in groupby(companies, key=lambda c: c.index_letter)]
    context = {"page": page, "groups": groups, "letters": INDEX_LETTERS, "letter": letter}
    return render(request, "companies/company_list.html", context)


def _timeline(request, stories, count):
    """Return the requested page of a timeline: stories newest first, with their companies.

    ``count`` is known from ``topic_coverage()``: a range of that length stands in for the stories
    so the paginator does not count them a second time.
    """
    page = _page(request, range(count), TIMELINE_PAGE_SIZE)
    page.object_list = newest(stories, offset=page.start_index() - 1, limit=TIMELINE_PAGE_SIZE)
    return page


@require_safe
@cache_public_page(query={"page": page_number})
def company_detail(request, slug):
    company = get_object_or_404(Company, slug=slug)
    figures = company_page_figures(company, alongside_window=ALONGSIDE_WINDOW)
    if not figures["count"]:
        raise Http404("No published story involves this company.")
    parent, subsidiaries = figures["parent"], figures["subsidiaries"]
    # Its parent's and subsidiaries' names are on it: a rename or a move purges this page too.
    relatives = [parent, *subsidiaries] if parent else subsidiaries
    add_keys(request, keys.company_key(company.pk), *(keys.company_key(other.pk) for other in relatives))
    stats = {"count": figures["count"], "since": figures["since"]}
    context = {
        "company": company,
        "stats": stats,
        "page": _timeline(request, public_stories().filter(companies=company), stats["count"]),
        "parent": parent,
        "subsidiaries": subsidiaries,
        "alongside": figures["alongside"],
        "alongside_window": ALONGSIDE_WINDOW if stats["count"] > ALONGSIDE_WINDOW else None,
    }
    return render(request, "companies/company_detail.html", context)


@require_safe
@cache_public_page(query={"page": page_number})
def theme_detail(request, slug):
    theme = get_object_or_404(Theme, slug=slug)
    key = keys.theme_key(theme.pk)
    add_keys(request, key)
    return _topic_page(request, theme, key, public_stories().filter(themes=theme), "stories/theme_detail.html")


@require_safe
@cache_public_page(query={"page": page_number})
def tag_detail(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    key = keys.tag_key(tag.pk)
    add_keys(request, key)
    return _topic_page(request, tag, key, public_stories().filter(tags=tag), "stories/tag_detail.html")


def _topic_page(request, topic, key, stories, template_name):
    stats = topic_coverage(topic, key)
    if not stats["count"]:
        # A theme or tag only used by unpublished stories must not reveal that it exists.
        raise Http404("No published story has this theme or tag.")
    context = {"topic": topic, "stats": stats, "page": _timeline(request, stories, stats["count"])}
    return render(request, template_name, context)


@require_safe
@public_page
def search(request):
    form = SearchForm(request.GET or None)
    context = {"form": form, "query": ""}
    if not form.is_bound:
        return render(request, "digest/search.html", context)
    if not form.is_valid():
        return render(request, "digest/search.html", context, status=400)
    if not form.has_criteria:
        return render(request, "digest/search.html", context)
    query, company, theme, year = (form.cleaned_data[name] for name in ("q", "company", "theme", "year"))
    page = _search_page(request, search_stories(query, company=company, theme=theme, year=year))
    page.object_list = highlighted(page.object_list, query)
    issues = []
    if query and company is None and theme is None:
        issues = highlighted(search_issues(query, year=year), query)
    context.update({"query": query, "page": page, "issues": issues, "searched": True})
    return render(request, "digest/search.html", context)


def _search_page(request, stories):
    """Return the page of search results ?page= asks for, counted and ranked in one query (``ranked_page``)."""
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_SEARCH_PAGE:
        raise Http404("There is no such page: pages are numbered from 1.")
    count, found = ranked_page(stories, offset=(number - 1) * SEARCH_PAGE_SIZE, limit=SEARCH_PAGE_SIZE)
    if number > 1 and not found:
        raise Http404(f"There is no such page: the results end before page {number}.")
    page = _page(request, range(count), SEARCH_PAGE_SIZE)
    page.object_list = found
    return page


@require_safe
@cache_public_page
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def healthz(request):
    """Answer without touching the database or the cache: the benchmark's floor, and a liveness probe."""
    return HttpResponse("ok\n", content_type="text/plain")
