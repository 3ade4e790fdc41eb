"""What the reader site may show, all derived from ``Issue.objects.published()``.

A story is public when its issue is published; a company, theme or tag is public when a
public story names it. Drafts, scheduled and withdrawn issues make nothing public, so a
company that only appears in a draft has no page, no count and no feed.
"""

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.db.models.functions import Lower
from taggit.models import Tag

from companies.models import Company
from stories.models import Story, Theme

from .models import Issue


def public_stories():
    """Return stories placed in a published issue, with that issue joined."""
    return Story.objects.filter(placement__issue__in=Issue.objects.published()).select_related("placement__issue")


def newest_first(stories):
    """Order stories as timelines show them: newest issue first, then reading order."""
    return stories.order_by(
        "-placement__issue__week_start", "-placement__issue__number", "placement__section", "placement__position"
    )


def public_companies():
    return Company.objects.filter(Exists(public_stories().filter(companies=OuterRef("pk"))))


def public_themes():
    return Theme.objects.filter(Exists(public_stories().filter(themes=OuterRef("pk"))))


def public_tags():
    return Tag.objects.filter(Exists(public_stories().filter(tags=OuterRef("pk"))))


def coverage(stories):
    """Return how many of ``stories`` there are and the first day of the earliest one's issue."""
    return stories.order_by().aggregate(count=Count("pk", distinct=True), since=Min("placement__issue__week_start"))


def companies_with_story_counts():
    """Return public companies from A to Z, each with ``story_count``: its stories in published issues."""
    published = Q(stories__placement__issue__in=Issue.objects.published())
    return (
        Company.objects.annotate(story_count=Count("stories", filter=published, distinct=True))
        .filter(story_count__gt=0)
        .order_by(Lower("name"), "name")
    )


def covered_alongside(company, *, limit=8):
    """Return the public companies most often named in the same stories as ``company``."""
    # Filtering before counting joins only this company's stories; a filtered Count would
    # aggregate every company's stories in the archive first.
    return (
        Company.objects.filter(stories__in=public_stories().filter(companies=company).values("pk"))
        .exclude(pk=company.pk)
        .annotate(shared_stories=Count("stories", distinct=True))
        .order_by("-shared_stories", "name")[:limit]
    )
