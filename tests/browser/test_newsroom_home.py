"""The newsroom's home page in Chromium: the scheduled issue's time in the reader's zone, its countdown."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from digest.models import IssueState
from tests.factories import IssueFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def test_the_home_page_counts_down_to_a_scheduled_issue_in_the_editors_time_zone(new_page, live_server):
    user_in_role("Editor", "ed")
    publish_at = timezone.now() + datetime.timedelta(days=2, hours=3, minutes=30)
    IssueFactory(state=IssueState.SCHEDULED, title="Going out", publish_at=publish_at)

    page = new_page(timezone_id="America/New_York", locale="en-US")
    page.clock.install(time=timezone.now())
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ed")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    scheduled = page.locator("#scheduled")
    expect(scheduled).to_contain_text("Going out")
    expect(scheduled.locator("[data-countdown]")).to_have_text("in 2 days, 3 hours")
    expect(scheduled.locator("time")).to_contain_text("EST")  # the editor's zone, not the server's UTC
    page.clock.run_for(3 * 3600 * 1000)  # three hours later, the page still open
    expect(scheduled.locator("[data-countdown]")).to_have_text("in 2 days")

    page.click("text=Everything in the newsroom")
    expect(page.locator("#content-main")).to_contain_text("Issues and publishing")
