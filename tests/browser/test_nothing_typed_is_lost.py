"""Nothing typed is lost, in Chromium: workflow buttons save first, leaving a changed page asks first."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from digest.models import Issue, IssueState
from tests.browser.test_newsroom import log_in
from tests.factories import CompanyFactory, StoryFactory, issue_with_stories, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def issue_url(live_server, issue):
    return f"{live_server.url}/admin/digest/issue/{issue.pk}/change/"


def type_week_in_review(page, text):
    field = page.locator("#id_week_in_review")
    field.click()
    field.press("Control+a")
    field.press_sequentially(text)


def click_workflow_button(page, name, comment=""):
    controls = page.locator(f".transition-{name}")
    if comment:
        controls.locator("textarea").fill(comment)
    controls.locator("button").click()


def test_each_workflow_button_keeps_what_was_typed(new_page, live_server):
    user_in_role("Editor", "ed")
    user_in_role("Editor", "eve")
    user_in_role("Publisher", "pat")
    issue = issue_with_stories(week_in_review="Draft text.")
    url = issue_url(live_server, issue)
    ed, eve, pat = (log_in(new_page, live_server, name) for name in ("ed", "eve", "pat"))

    def step(page, name, text, state, comment="", before_click=None):
        """Type ``text`` (None: type nothing), click the button, and find the text kept and saved."""
        page.goto(url)
        if text is not None:
            type_week_in_review(page, text)
        if before_click:
            before_click(page)
        click_workflow_button(page, name, comment)
        expect(page.locator(".workflow .state")).to_have_text(state)
        kept = text if text is not None else Issue.objects.get(pk=issue.pk).week_in_review
        expect(page.locator("#id_week_in_review")).to_have_value(kept)
        assert Issue.objects.get(pk=issue.pk).week_in_review == kept

    in_a_day = timezone.localtime() + datetime.timedelta(days=1)

    def pick_a_time(page):
        page.fill("#publish-at", in_a_day.strftime("%Y-%m-%dT%H:%M"))

    step(ed, "send_to_review", "Sent with these words.", "In review")
    step(eve, "request_changes", "A reviewer's own fix.", "Draft", comment="Name the companies.")
    step(ed, "send_to_review", "Names the companies now.", "In review")
    step(pat, "approve", "Approved as written.", "Approved")
    # Typing into the approved issue, then Schedule: the text is saved, and since it changed
    # what was approved, the issue goes back to review instead of being scheduled.
    step(pat, "schedule", "Changed after approval.", "In review", before_click=pick_a_time)
    expect(pat.locator(".messagelist")).to_contain_text("sent it back to review")
    step(pat, "approve", None, "Approved")
    step(pat, "schedule", None, "Scheduled", before_click=pick_a_time)
    step(pat, "unschedule", None, "Approved")
    step(pat, "publish", None, "Published")

    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED
    assert list(issue.events.order_by("created_at", "id").values_list("action", "actor__username")) == [
        ("send_to_review", "ed"),
        ("request_changes", "eve"),
        ("send_to_review", "ed"),
        ("approve", "pat"),
        ("content_changed", "pat"),
        ("approve", "pat"),
        ("schedule", "pat"),
        ("unschedule", "pat"),
        ("publish", "pat"),
    ]
    reader = new_page()
    reader.goto(f"{live_server.url}{issue.get_absolute_url()}")
    expect(reader.locator("#week-in-review")).to_contain_text("Changed after approval.")


def test_a_conflicting_save_with_a_workflow_button_keeps_the_text_and_moves_nothing(new_page, live_server):
    user_in_role("Editor", "ed")
    user_in_role("Editor", "eve")
    issue = issue_with_stories(week_in_review="Before.")
    url = issue_url(live_server, issue)
    ed, eve = log_in(new_page, live_server, "ed"), log_in(new_page, live_server, "eve")
    ed.goto(url)
    eve.goto(url)
    eve.fill("#id_title", "Eve's title")
    eve.click("input[name=_continue]")
    expect(eve.locator(".messagelist")).to_contain_text("was changed successfully")

    type_week_in_review(ed, "Ed typed this meanwhile.")
    click_workflow_button(ed, "send_to_review", comment="Ready when you are.")
    expect(ed.locator("#issue_form .errorlist.nonfield")).to_contain_text("eve saved this issue at")
    expect(ed.locator("#id_week_in_review")).to_have_value("Ed typed this meanwhile.")
    expect(ed.locator("#comment-send_to_review")).to_have_value("Ready when you are.")
    expect(ed.locator(".workflow .state")).to_have_text("Draft")
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and issue.week_in_review == "Before." and issue.title == "Eve's title"

    # Enter in a field saves (deliberately replacing Eve's version) and takes no workflow step.
    ed.locator("#id_number").press("Enter")
    expect(ed.locator(".messagelist")).to_contain_text("was changed successfully")
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and issue.week_in_review == "Ed typed this meanwhile."


def test_leaving_a_changed_page_asks_first(new_page, live_server):
    user_in_role("Editor", "ed")
    issue = issue_with_stories(week_in_review="Before.")
    url = issue_url(live_server, issue)
    ed = log_in(new_page, live_server, "ed")
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    ed.on("dialog", stay)
    ed.goto(url)
    ed.click(".breadcrumbs a >> nth=0")  # nothing changed: leaves without asking
    expect(ed).to_have_url(f"{live_server.url}/admin/")
    assert dialogs == []

    ed.goto(url)
    type_week_in_review(ed, "Not saved yet.")
    ed.click(".breadcrumbs a >> nth=0")
    ed.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    expect(ed).to_have_url(url)
    expect(ed.locator("#id_week_in_review")).to_have_value("Not saved yet.")

    # Saved: leaving no longer asks.
    ed.click("input[name=_continue]")
    expect(ed.locator(".messagelist")).to_contain_text("was changed successfully")
    ed.click(".breadcrumbs a >> nth=0")
    expect(ed).to_have_url(f"{live_server.url}/admin/")
    assert dialogs == ["beforeunload"]


@pytest.mark.parametrize("kind", ["story", "company"])
def test_leaving_a_changed_story_or_company_asks_first(new_page, live_server, kind):
    user_in_role("Editor", "ed")
    obj = {"story": StoryFactory, "company": CompanyFactory}[kind]()
    ed = log_in(new_page, live_server, "ed")
    dialogs = []
    ed.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    url = f"{live_server.url}/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"
    ed.goto(url)
    field = ed.locator("#id_summary" if kind == "story" else "#id_description")
    field.click()
    field.press_sequentially(" More.")
    ed.click(".breadcrumbs a >> nth=0")
    ed.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    expect(field).to_have_value(re.compile(r" More\.$"))
