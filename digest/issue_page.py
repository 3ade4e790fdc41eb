"""The web page of one issue, as readers see it: the reader site serves it, staff preview it.

It lives in the core, beside the PDF edition, because two rooms show it: the reader site
(published issues, share links) and the newsroom (a DRAFT-marked preview of any issue).
It returns a TemplateResponse, so a room can read what the page shows (its context) before
it is rendered.
"""

import math

from django.conf import settings
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.utils.html import strip_tags

from .models import Issue, Placement, Section

WORDS_PER_MINUTE = 230


def reading_minutes(*html_texts):
    """Return the minutes an unhurried reader needs for the texts, at least one."""
    words = sum(len(strip_tags(text).split()) for text in html_texts)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def issue_page(request, issue, *, preview=False):
    """Render an issue as readers see it; ``preview`` marks an unpublished view as a draft."""
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
    context = {
        "issue": issue,
        "sections": sections,
        "corrections": issue.corrections.all(),
        "preview": preview,
        "reading_minutes": reading_minutes(
            issue.week_in_review_html, issue.patterns_html, *(story.summary_html for story in stories)
        ),
        "previous_issue": published.before(issue).first(),
        "next_issue": published.after(issue).first(),
        "json_ld": _issue_json_ld(request, issue, stories),
        "canonical_path": issue.get_absolute_url(),
    }
    response = TemplateResponse(request, "digest/issue_detail.html", context)
    if preview:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
    return response


def _issue_json_ld(request, issue, stories):
    """Describe the issue for search engines (schema.org), from the objects already loaded."""
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
                "headline": story.title,
                "url": f"{url}#{story.slug}",
                "about": [
                    {
                        "@type": "Organization",
                        "name": company.name,
                        **({"url": company.website} if company.website else {}),
                    }
                    for company in story.company_list
                ],
            }
            for story in stories
        ],
    }
