"""The issue page's checklist links to what it names, and a button it blocks is disabled with the reason."""

import re

import pytest
from django.urls import reverse

from digest.models import Issue, IssueState, Section
from tests.factories import PlacementFactory, issue_with_stories, record_approval, user_in_role

pytestmark = pytest.mark.django_db


def page_of(client, issue):
    return client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()


def test_each_item_links_to_the_field_of_the_form_or_the_story_to_fix(client):
    issue = issue_with_stories(top=0, threads=0, week_in_review="", patterns="")
    story = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__companies=[]).story
    client.force_login(user_in_role("Editor"))
    html = page_of(client, issue)
    story_url = reverse("admin:stories_story_change", args=[story.pk])
    assert '<a href="#id_week_in_review">Write the Week in Review.</a>' in html
    assert '<a href="#placements-group">Add at least one top story.</a>' in html
    assert f'<a href="{story_url}#id_companies">“{story.title}” has no company.</a>' in html
    assert '<a href="#id_patterns">Patterns Across Companies is empty.</a>' in html
    assert f'<a href="{story_url}#id_themes">“{story.title}” has no theme.</a>' in html
    # Each anchor names something on the page it leads to.
    assert 'id="id_week_in_review"' in html and 'id="placements-group"' in html and 'id="id_patterns"' in html
    story_page = client.get(story_url).content.decode()
    assert 'id="id_companies"' in story_page and 'id="id_themes"' in story_page and 'id="sources-group"' in story_page


def test_a_read_only_page_links_stories_but_no_field_it_does_not_show(client):
    issue = issue_with_stories(top=0, threads=0, week_in_review="")
    story = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__companies=[]).story
    client.force_login(user_in_role("Contributor"))
    html = page_of(client, issue)
    assert "<li>Write the Week in Review.</li>" in html
    assert f'href="{reverse("admin:stories_story_change", args=[story.pk])}#id_companies"' in html


def button(html, name):
    return re.search(rf'<button [^>]*value="{name}"[^>]*>', html).group(0)


def test_a_button_the_checklist_blocks_is_disabled_with_the_reason_beside_it(client):
    issue = issue_with_stories(state=IssueState.IN_REVIEW, top=0, week_in_review="")
    client.force_login(user_in_role("Editor"))
    html = page_of(client, issue)
    approve = button(html, "approve")
    assert " disabled" in approve and 'aria-describedby="blocked-approve"' in approve
    reason = '<p class="blocked-reason" id="blocked-approve">Blocked: <a href="#checklist">2 checklist items</a>'
    assert f"{reason} to fix first.</p>" in html
    assert " disabled" not in button(html, "request_changes")  # the checklist does not stop it
    assert 'id="checklist"' in html


@pytest.mark.parametrize("state", [IssueState.APPROVED, IssueState.SCHEDULED])
def test_schedule_and_publish_are_disabled_while_blocked_and_enabled_once_it_passes(client, state):
    issue = issue_with_stories(state=state, week_in_review="")
    client.force_login(user_in_role("Publisher"))
    html = page_of(client, issue)
    names = ["publish", "schedule"] if state == IssueState.APPROVED else ["publish"]
    for name in names:
        assert " disabled" in button(html, name)
        assert f'id="blocked-{name}"' in html
    if state == IssueState.SCHEDULED:
        assert " disabled" not in button(html, "unschedule")
    # Fixed as approved content (an edit would send it back to review: digest.approval).
    Issue.objects.filter(pk=issue.pk).update(week_in_review="Written.")
    record_approval(issue)
    html = page_of(client, issue)
    for name in names:
        assert " disabled" not in button(html, name)
    assert "blocked-reason" not in html
