"""The pages every reader check visits: one URL per page type, on the demo content."""

import datetime

from django.core.management import call_command
from django.utils import timezone

from digest.models import Issue, IssueState
from tests.factories import IssueFactory, PlacementFactory


def build_reader_pages():
    """Load the demo issue with an earlier issue and a withdrawn one; return one URL per page type."""
    call_command("load_demo", "--no-admin", stdout=None)
    demo = Issue.objects.get(slug="2026-04-18")
    earlier = IssueFactory(
        published=True,
        number=90,
        title="Engineering @ Scale — Week of 2026-04-04",
        week_start=datetime.date(2026, 4, 4),
        week_end=datetime.date(2026, 4, 17),
    )
    story = demo.placements.first().story
    PlacementFactory(
        issue=earlier,
        story__title="Cell-based architecture at scale",
        story__companies=[story.companies.first()],
        story__themes=[story.themes.first()],
    ).story.tags.add(story.tags.first())
    withdrawn = IssueFactory(
        number=91, state=IssueState.WITHDRAWN, published_at=timezone.now(), week_start=datetime.date(2025, 1, 4)
    )
    company = story.companies.first()
    return {
        "issue": demo.get_absolute_url(),
        "home": "/",
        "archive": "/issues/",
        "companies": "/companies/",
        "company": company.get_absolute_url(),
        "theme": story.themes.first().get_absolute_url(),
        "tag": f"/tags/{story.tags.first().slug}/",
        "search": "/search/?q=durable+execution",
        "search-empty": "/search/",
        "search-refused": "/search/?q=" + "a" * 201,
        "not-found": "/issues/no-such-issue/",
        "withdrawn": withdrawn.get_absolute_url(),
    }
