import datetime

import pytest

from digest.checklist import run_checklist
from digest.models import Section
from stories.models import Source
from tests.factories import PlacementFactory, ThemeFactory, issue_with_stories

pytestmark = pytest.mark.django_db


def complete_issue():
    issue = issue_with_stories(top=2, threads=1)
    for placement in issue.placements.all():
        placement.story.themes.add(ThemeFactory())
    return issue


def test_a_complete_issue_passes_without_warnings():
    checklist = run_checklist(complete_issue())
    assert checklist.passed and checklist.blocking == [] and checklist.warnings == []


def test_blocking_items():
    issue = issue_with_stories(top=0, threads=0, week_in_review=" ")
    issue.week_end = issue.week_start + datetime.timedelta(days=20)
    thread = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__companies=[], story__sources=[])
    thread.story.sources.all().delete()
    clash = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__slug="week-in-review")
    PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__title=clash.story.title.upper())
    blocking = run_checklist(issue).blocking
    assert blocking == [
        "Write the Week in Review.",
        "Add at least one top story.",
        "The issue covers more than 14 days; check the week dates.",
        f"“{thread.story.title}” has no company.",
        f"“{thread.story.title}” has no source.",
        f"“{clash.story.title}”: the slug “week-in-review” clashes with a section anchor of the page; choose another.",
        f"“{clash.story.title.upper()}” appears twice in this issue (check “{clash.story.title}”).",
    ]


def test_warnings_do_not_block():
    issue = complete_issue()
    issue.patterns = ""
    story = issue.placements.first().story
    story.themes.clear()
    Source.objects.create(story=story, title="No link", url="")
    checklist = run_checklist(issue)
    assert checklist.passed
    assert checklist.warnings == [
        "Patterns Across Companies is empty.",
        f"“{story.title}”: the source “No link” has no URL.",
        f"“{story.title}” has no theme.",
    ]


def test_checklist_query_count_does_not_grow(django_assert_num_queries):
    small, large = complete_issue(), issue_with_stories(top=20, threads=20)
    with django_assert_num_queries(4):
        run_checklist(small)
    with django_assert_num_queries(4):
        run_checklist(large)


def test_each_item_says_which_field_or_story_it_is_about():
    issue = issue_with_stories(top=0, threads=0, week_in_review="", patterns="")
    thread = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__companies=[])
    checklist = run_checklist(issue)
    about = [(str(item), item.field, item.story_id) for item in [*checklist.blocking, *checklist.warnings]]
    assert about == [
        ("Write the Week in Review.", "week_in_review", None),
        ("Add at least one top story.", "placements", None),
        (f"“{thread.story.title}” has no company.", "companies", thread.story.pk),
        ("Patterns Across Companies is empty.", "patterns", None),
        (f"“{thread.story.title}” has no theme.", "themes", thread.story.pk),
    ]
