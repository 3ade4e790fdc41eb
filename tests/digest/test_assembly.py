"""Adding a story to an issue from outside the issue's page keeps the issue's rules."""

import pytest
from django.core.exceptions import PermissionDenied

from digest import workflow
from digest.assembly import PlacementRefused, add_story_to_issue
from digest.models import IssueState, Placement, Section
from tests.factories import IssueFactory, StoryFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db


def test_the_story_goes_last_in_top_stories_and_open_forms_of_the_issue_conflict():
    editor = user_in_role("Editor")
    issue = issue_with_stories(top=2, threads=1)
    version = issue.version
    story = StoryFactory()
    placement = add_story_to_issue(issue=issue, story=story, by=editor)
    assert (placement.section, placement.position) == (Section.TOP_STORIES, 2)
    issue.refresh_from_db()
    assert issue.version == version + 1
    assert list(issue.placements_in(Section.TOP_STORIES))[-1].story == story


def test_a_placed_story_a_published_issue_and_a_contributor_are_refused():
    editor, contributor = user_in_role("Editor"), user_in_role("Contributor")
    placed = issue_with_stories(top=1, threads=0).placements.get().story
    with pytest.raises(PlacementRefused, match="already in issue"):
        add_story_to_issue(issue=IssueFactory(), story=placed, by=editor)
    with pytest.raises(PlacementRefused, match="published"):
        add_story_to_issue(issue=IssueFactory(published=True), story=StoryFactory(), by=editor)
    with pytest.raises(PermissionDenied):
        add_story_to_issue(issue=IssueFactory(), story=StoryFactory(), by=contributor)
    assert Placement.objects.count() == 1


def test_adding_to_an_approved_issue_sends_it_back_to_review():
    editor = user_in_role("Editor")
    issue = issue_with_stories(top=1, threads=0, state=IssueState.IN_REVIEW)
    workflow.approve(issue=issue, by=user_in_role("Editor", "eve"))
    add_story_to_issue(issue=issue, story=StoryFactory(title="Late addition"), by=editor)
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW
    assert "Late addition" in issue.events.get(action="content_changed").comment
