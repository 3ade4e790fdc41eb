"""In Chromium: share links listed with a copy button and revoked one by one; withdrawing asks first."""

import pytest
from playwright.sync_api import expect

from digest.models import Issue, IssueState
from tests.browser.sessions import log_in
from tests.factories import issue_with_stories, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_copy_a_share_link_then_revoke_it(new_page, live_server):
    user_in_role("Publisher", "pat")
    issue = issue_with_stories(state=IssueState.APPROVED, title="Shared with a reviewer")
    pat = log_in(new_page(permissions=["clipboard-read", "clipboard-write"]), live_server, "pat")
    pat.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")

    pat.get_by_role("button", name="Make share link").click()
    row = pat.locator("tr.share-link-live")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("pat,")
    url = row.locator("input.share-link-url").input_value()
    assert url.startswith(f"{live_server.url}/preview/")

    row.get_by_role("button", name="Copy").click()
    expect(row.locator(".copy-status")).to_have_text("Copied")
    assert pat.evaluate("navigator.clipboard.readText()") == url

    reviewer = new_page()
    reviewer.goto(url)
    expect(reviewer.locator("h1")).to_contain_text("Shared with a reviewer")

    row.get_by_role("button", name="Revoke this one").click()
    expect(pat.locator(".consequences")).to_contain_text("will answer “This link has expired or is invalid”")
    pat.get_by_role("button", name="Yes, revoke this link").click()
    expect(pat.locator("tr.share-link")).to_contain_text("Revoked")
    expect(pat.locator("tr.share-link-live")).to_have_count(0)

    reviewer.goto(url)
    expect(reviewer.locator("body")).to_contain_text("This link has expired or is invalid")


def test_withdraw_asks_first_and_keeps_the_comment(new_page, live_server):
    user_in_role("Publisher", "pat")
    issue = issue_with_stories(published=True)
    pat = log_in(new_page(), live_server, "pat")
    pat.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")

    controls = pat.locator(".transition-withdraw")
    controls.locator("textarea").fill("Legal asked us to")
    controls.locator("button").click()

    panel = pat.locator(".confirm-panel")
    expect(panel).to_contain_text(f"Withdraw issue #{issue.number}?")
    expect(panel).to_contain_text(f"The page /issues/{issue.slug}/ will answer 410 Gone")
    expect(controls.locator("textarea")).to_have_value("Legal asked us to")
    assert Issue.objects.get(pk=issue.pk).state == IssueState.PUBLISHED

    panel.get_by_role("button", name="Yes, withdraw it").click()
    expect(pat.locator(".workflow .state")).to_have_text("Withdrawn")
    assert issue.events.get(action="withdraw").comment == "Legal asked us to"
