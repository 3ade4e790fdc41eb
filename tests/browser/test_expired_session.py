"""In Chromium: a save after the session expired keeps the text through the login."""

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from digest.models import Issue
from tests.browser.sessions import PASSWORD, log_in
from tests.factories import issue_with_stories, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_save_after_the_session_expired_keeps_the_text(new_page, live_server):
    user_in_role("Editor", "ed")
    issue = issue_with_stories(week_in_review="Before.")
    ed = log_in(new_page(), live_server, "ed")
    ed.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")
    ed.fill("#id_week_in_review", "Typed for an hour.")
    Session.objects.all().delete()  # the session expires while the editor types

    ed.locator("input[name=_save]").click()
    expect(ed.locator("#id_username")).to_be_visible()  # the login page
    ed.fill("#id_username", "ed")
    ed.fill("#id_password", PASSWORD)
    ed.click("input[type=submit]")

    expect(ed.locator("#id_week_in_review")).to_have_value("Typed for an hour.")
    expect(ed.locator(".messagelist")).to_contain_text("Your session had expired, so nothing was saved.")
    ed.locator("input[name=_save]").click()
    expect(ed.locator(".messagelist")).to_contain_text("was changed successfully")
    assert Issue.objects.get(pk=issue.pk).week_in_review == "Typed for an hour."
