"""A refusal in the newsroom is a page in the admin's look that says why, with no script or style refused."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_newsroom import log_in
from tests.factories import issue_with_stories, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_page_and_a_read_only_page_say_why(new_page, live_server):
    user_in_role("Contributor", "carol")
    issue = issue_with_stories()
    page = log_in(new_page, live_server, "carol")
    response = page.goto(f"{live_server.url}/admin/digest/issue/add/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".refusal-reason")).to_have_text("Contributors may not add issues.")
    expect(page.locator(".refusal-who")).to_contain_text("Editors and Publishers may.")
    expect(page.locator("#nav-sidebar")).to_be_visible()  # the admin around it, to go elsewhere
    page.get_by_role("link", name="Back to the newsroom").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")
    expect(page.get_by_role("note")).to_have_text(
        "Read only. Editors assemble issues: your role may read them, not change them."
    )
