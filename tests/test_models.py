"""Integrity rules the database itself enforces."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from companies.models import Company
from digest.models import Issue, Placement
from stories.models import Story
from stories.rendering import render_markdown
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, StoryFactory

pytestmark = pytest.mark.django_db


def violates(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_issue_slugs_and_numbers_are_unique():
    IssueFactory(number=1, slug="2026-01-03")
    violates(lambda: IssueFactory(number=1, slug="other"))
    violates(lambda: IssueFactory(number=2, slug="2026-01-03"))


def test_issue_week_cannot_end_before_it_starts():
    violates(lambda: IssueFactory(week_start=datetime.date(2026, 1, 10), week_end=datetime.date(2026, 1, 9)))
    IssueFactory(week_start=datetime.date(2026, 1, 10), week_end=datetime.date(2026, 1, 10))


def test_a_story_is_in_at_most_one_issue():
    placement = PlacementFactory()
    violates(lambda: Placement.objects.create(issue=IssueFactory(), story=placement.story))
    violates(lambda: Placement.objects.create(issue=placement.issue, story=placement.story))


def test_story_and_company_slugs_and_names_are_unique():
    StoryFactory(slug="s")
    violates(lambda: StoryFactory(slug="s"))
    CompanyFactory(name="Amazon", slug="amazon")
    violates(lambda: Company.objects.create(name="Amazon", slug="amazon-2"))
    violates(lambda: Company.objects.create(name="Amazon 2", slug="amazon"))


def test_a_company_is_not_its_own_parent():
    company = CompanyFactory()
    company.parent_id = company.pk
    violates(lambda: company.save())


def test_published_means_published_and_due():
    live = IssueFactory(published=True)
    IssueFactory(state="published", published_at=None)
    IssueFactory()
    assert list(Issue.objects.published()) == [live]


def test_is_public_agrees_with_published():
    future = timezone.now() + datetime.timedelta(hours=1)
    issues = [
        IssueFactory(published=True),
        IssueFactory(state="published", published_at=None),
        IssueFactory(state="published", published_at=future),  # stamped ahead: not public yet
        IssueFactory(state="withdrawn", published_at=timezone.now() - datetime.timedelta(days=1)),
        IssueFactory(),
    ]
    published = set(Issue.objects.published().values_list("pk", flat=True))
    assert {issue.pk for issue in issues if issue.is_public} == published
    assert len(published) == 1


def test_markdown_is_rendered_and_sanitised_on_save():
    story = StoryFactory(summary="**Bold** <b onclick=x>raw</b> [ok](https://example.com) [bad](javascript:alert(1))")
    story.refresh_from_db()
    assert "<strong>Bold</strong>" in story.summary_html
    assert "&lt;b onclick=x&gt;" in story.summary_html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in story.summary_html
    assert 'href="javascript' not in story.summary_html
    story.summary = "changed"
    story.save(update_fields=["summary"])
    assert Story.objects.get(pk=story.pk).summary_html == "<p>changed</p>\n"


def test_render_markdown_of_blank_text_is_empty():
    assert render_markdown("  \n") == ""
