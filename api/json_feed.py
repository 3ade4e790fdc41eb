"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) beside the reader's RSS and Atom feeds.

``/feed.json`` carries the latest issues whole, ``/companies/<slug>/feed.json`` and
``/themes/<slug>/feed.json`` the stories of one company or theme; the same items, the same
HTML (the RSS feeds' templates) and the same keys as those feeds, so one purge drops all
three formats.
"""

import json

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from digest.models import Issue, Placement, Section
from digest.public import newest, public_companies, public_stories, public_themes
from reader import keys
from reader.feeds import ISSUES_IN_FEED, STORIES_IN_FEED
from reader.page_cache import add_keys, cache_public_page

VERSION = "https://jsonfeed.org/version/1.1"
CONTENT_TYPE = "application/feed+json; charset=utf-8"
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _feed_response(request, *, title, home_path, description, items):
    feed = {
        "version": VERSION,
        "title": title,
        "home_page_url": request.build_absolute_uri(home_path),
        "feed_url": request.build_absolute_uri(request.path),
        "description": description,
        "language": "en",
        "authors": [{"name": settings.SITE_NAME, "url": request.build_absolute_uri("/")}],
        "items": items,
    }
    body = json.dumps(feed, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    return HttpResponse(body, content_type=CONTENT_TYPE)


@require_safe
@cache_public_page
def issue_feed(request):
    """The latest published issues, each whole."""
    add_keys(request, keys.ISSUES)
    placements = Placement.objects.select_related("story").order_by("section", "position", "id")
    issues = (
        Issue.objects.published()
        .order_by("-week_start", "-number")
        .prefetch_related(
            Prefetch("placements", queryset=placements), "placements__story__companies", "placements__story__sources"
        )[:ISSUES_IN_FEED]
    )
    items = []
    for issue in issues:
        sections = [(section, [p.story for p in issue.placements_in(section)]) for section in Section]
        url = request.build_absolute_uri(issue.get_absolute_url())
        items.append(
            {
                "id": url,
                "url": url,
                "title": issue.title,
                "content_html": render_to_string(
                    "digest/issue_feed_item.html", {"obj": issue, "sections": sections}
                ).strip(),
                "date_published": issue.published_at.isoformat(),
                "date_modified": issue.updated_at.isoformat(),
            }
        )
    return _feed_response(
        request,
        title=settings.SITE_NAME,
        home_path="/",
        description="A weekly digest of engineering news from large companies.",
        items=items,
    )


def _story_feed(request, topic, stories):
    items = []
    for story in newest(stories, limit=STORIES_IN_FEED, prefetch=("sources", "companies")):
        issue = story.placement.issue
        url = request.build_absolute_uri(f"{issue.get_absolute_url()}#{story.slug}")
        items.append(
            {
                "id": url,
                "url": url,
                "title": story.title,
                "content_html": render_to_string("includes/story_feed_item.html", {"obj": story}).strip(),
                "date_published": issue.published_at.isoformat(),
                "tags": [company.name for company in story.companies.all()],
            }
        )
    return _feed_response(
        request,
        title=f"{topic.name} — {settings.SITE_NAME}",
        home_path=topic.get_absolute_url(),
        description=f"Stories about {topic.name} in {settings.SITE_NAME}.",
        items=items,
    )


@require_safe
@cache_public_page
def company_feed(request, slug):
    company = public_companies().filter(slug=slug).first()
    if company is None:
        raise Http404("No published story involves this company.")
    add_keys(request, keys.company_key(company.pk))
    return _story_feed(request, company, public_stories().filter(companies=company))


@require_safe
@cache_public_page
def theme_feed(request, slug):
    theme = public_themes().filter(slug=slug).first()
    if theme is None:
        raise Http404("No published story has this theme.")
    add_keys(request, keys.theme_key(theme.pk))
    return _story_feed(request, theme, public_stories().filter(themes=theme))
