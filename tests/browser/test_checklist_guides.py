"""The checklist takes an editor to what to fix, and a button it blocks says why it cannot be clicked."""

import pytest
from playwright.sync_api import expect

from digest.models import Issue, IssueState, Section
from tests.browser.test_newsroom import log_in
from tests.factories import PlacementFactory, issue_with_stories, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_blocked_button_says_why_and_the_checklist_leads_to_the_field(new_page, live_server):
    user_in_role("Editor", "ed")
    issue = issue_with_stories(state=IssueState.IN_REVIEW, week_in_review="")
    story = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, story__companies=[]).story
    page = log_in(new_page, live_server, "ed")
    page.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")

    approve = page.locator(".transition-approve button")
    expect(approve).to_be_disabled()
    expect(approve).to_have_accessible_description("Blocked: 2 checklist items to fix first.")
    expect(page.locator("#blocked-approve")).to_be_visible()
    expect(page.locator(".transition-request_changes button")).to_be_enabled()

    page.locator(".checklist-blocking a", has_text="Write the Week in Review.").click()
    assert page.url.endswith("#id_week_in_review")
    field = page.locator("#id_week_in_review")
    expect(field).to_be_focused()
    expect(field).to_be_in_viewport()

    # Typing a fix makes the button save it first, and the checklist then runs on what was typed.
    page.keyboard.type("A week of routing.")
    expect(approve).to_be_enabled()
    expect(page.locator("#blocked-approve")).to_have_text("Saves your changes first, then checks the checklist again.")
    field.fill("")  # typed away: blocked again
    expect(approve).to_be_disabled()
    expect(page.locator("#blocked-approve")).to_have_text("Blocked: 2 checklist items to fix first.")
    field.fill("A week of routing.")
    approve.click()
    expect(page.locator(".messagelist")).to_contain_text("is blocked until these are fixed")
    expect(page.locator(".messagelist")).to_contain_text(f"“{story.title}” has no company.")
    issue.refresh_from_db()
    assert issue.week_in_review == "A week of routing." and issue.state == IssueState.IN_REVIEW
    expect(page.locator(".transition-approve button")).to_be_disabled()
    expect(page.locator("#blocked-approve")).to_have_text("Blocked: 1 checklist item to fix first.")

    # A story's item leads to the story's field.
    page.locator(".checklist-blocking a", has_text="has no company").click()
    expect(page).to_have_url(f"{live_server.url}/admin/stories/story/{story.pk}/change/#id_companies")
    expect(page.locator(".field-companies")).to_be_in_viewport()
    assert Issue.objects.get().state == IssueState.IN_REVIEW
