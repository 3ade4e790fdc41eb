"""The web page of one issue, as readers see it: the reader site serves it, staff preview it.

It lives in the core, beside the PDF edition, because two rooms show it: the reader site
(published issues, share links) and the newsroom (a DRAFT-marked preview of any issue).

The page is two parts. Its **body** (``render_issue_body``) is everything that needs the
issue's stories, their companies, themes, tags and sources, its corrections and its
neighbours: the costly part, made without a request so that a room can store it and serve
it again (``reader.models.IssueBody``) until something it shows changes. The **page**
(``issue_page``) wraps a body in the site's template with what comes from the issue row and
the request alone (title, description, canonical address, JSON-LD's absolute URLs). It
returns a TemplateResponse, so a room can read what the page shows (its context) before it
is rendered.
"""

import dataclasses
import functools
import hashlib
import math

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import get_template, render_to_string
from django.template.response import TemplateResponse
from django.utils.html import strip_tags

from .models import Issue, Placement, Section

WORDS_PER_MINUTE = 230
# The templates a body is made from: a deploy that changes one makes every stored body stale.
BODY_TEMPLATES = ("digest/issue_body.html", "digest/issue_links.html", "includes/story.html")


def reading_minutes(*html_texts):
    """Return the minutes an unhurried reader needs for the texts, at least one."""
    words = sum(len(strip_tags(text).split()) for text in html_texts)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


@functools.cache
def body_template_hash():
    """Return the hash of the templates a body is made from, as this process loaded them."""
    digest = hashlib.sha256()
    for name in BODY_TEMPLATES:
        digest.update(hashlib.sha256(get_template(name).template.source.encode()).digest())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class IssueBody:
    """The rendered body of an issue's page and what the page around it needs from it.

    ``html`` and ``head_html`` hold only site-relative links, so one body serves any host;
    ``stories`` describes each story for JSON-LD (headline, anchor, companies).
    """

    html: str
    head_html: str
    stories: list
    previous_issue_id: int | None
    next_issue_id: int | None
    template_hash: str


def render_issue_body(issue):
    """Render the body of ``issue``'s page from the database: a flat number of queries."""
    # Plain lists (to_attr) rather than related managers: building a manager for each
    # story and relation was a third of the page's rendering time.
    placements = list(
        Placement.objects.filter(issue=issue)
        .select_related("story")
        .prefetch_related(
            Prefetch("story__companies", to_attr="company_list"),
            Prefetch("story__themes", to_attr="theme_list"),
            Prefetch("story__tags", to_attr="tag_list"),
            Prefetch("story__sources", to_attr="source_list"),
        )
        .order_by("section", "position", "id")
    )
    sections = [
        (section, [placement.story for placement in placements if placement.section == section]) for section in Section
    ]
    stories = [placement.story for placement in placements]
    published = Issue.objects.published()
    previous_issue, next_issue = published.before(issue).first(), published.after(issue).first()
    context = {
        "issue": issue,
        "sections": sections,
        "corrections": issue.corrections.all(),
        "reading_minutes": reading_minutes(
            issue.week_in_review_html, issue.patterns_html, *(story.summary_html for story in stories)
        ),
        "previous_issue": previous_issue,
        "next_issue": next_issue,
    }
    return IssueBody(
        html=render_to_string("digest/issue_body.html", context),
        head_html=render_to_string("digest/issue_links.html", context),
        stories=[
            {
                "headline": story.title,
                "anchor": story.slug,
                "companies": [{"name": c.name, "website": c.website} for c in story.company_list],
            }
            for story in stories
        ],
        previous_issue_id=previous_issue.pk if previous_issue else None,
        next_issue_id=next_issue.pk if next_issue else None,
        template_hash=body_template_hash(),
    )


def issue_page(request, issue, *, preview=False, body=None):
    """Render an issue as readers see it; ``preview`` marks an unpublished view as a draft.

    ``body`` is a stored ``IssueBody``; without one it is rendered now.
    """
    body = body or render_issue_body(issue)
    context = {
        "issue": issue,
        "body": body,
        "preview": preview,
        "json_ld": _issue_json_ld(request, issue, body.stories),
        "canonical_path": issue.get_absolute_url(),
    }
    response = TemplateResponse(request, "digest/issue_detail.html", context)
    if preview:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
    return response


def _issue_json_ld(request, issue, stories):
    """Describe the issue for search engines (schema.org), from the issue row and its body's stories."""
    url = request.build_absolute_uri(issue.get_absolute_url())
    return {
        "@context": "https://schema.org",
        "@type": "PublicationIssue",
        "@id": url,
        "url": url,
        "name": issue.title,
        "issueNumber": str(issue.number),
        **({"datePublished": issue.published_at.isoformat()} if issue.published_at else {}),
        "dateModified": issue.updated_at.isoformat(),
        "description": strip_tags(issue.week_in_review_html).strip()[:300],
        "isPartOf": {"@type": "Periodical", "name": settings.SITE_NAME, "url": request.build_absolute_uri("/")},
        "hasPart": [
            {
                "@type": "Article",
                "headline": story["headline"],
                "url": f"{url}#{story['anchor']}",
                "about": [
                    {
                        "@type": "Organization",
                        "name": company["name"],
                        **({"url": company["website"]} if company["website"] else {}),
                    }
                    for company in story["companies"]
                ],
            }
            for story in stories
        ],
    }
