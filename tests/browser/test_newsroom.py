"""The whole editorial workflow, through the real admin in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from digest.models import Issue, IssueState
from tests.factories import CompanyFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(new_page, live_server, username):
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username.upper(), ignore_case=True)
    return page


def choose_autocomplete(page, field_id, search, option):
    page.click(f"#{field_id} + .select2 .select2-selection")
    page.keyboard.type(search)
    page.locator(".select2-results__option", has_text=option).first.click()


def workflow_action(page, name, comment=""):
    controls = page.locator(f".transition-{name}")
    if comment:
        controls.locator("textarea").fill(comment)
    controls.locator("button").click()


def test_story_to_published_issue_to_correction(new_page, live_server):
    for role, username in [("Contributor", "carol"), ("Editor", "ed"), ("Editor", "eve"), ("Publisher", "pat")]:
        user_in_role(role, username)
    CompanyFactory(name="Netflix", slug="netflix")

    # A contributor writes a story with a source.
    carol = log_in(new_page, live_server, "carol")
    carol.goto(f"{live_server.url}/admin/stories/story/add/")
    carol.locator("#id_title").press_sequentially("Netflix moves routing into headers")
    expect(carol.locator("#id_slug")).to_have_value("netflix-moves-routing-into-headers")
    carol.fill("#id_summary", "Routing keys now travel in **headers**.")
    choose_autocomplete(carol, "id_companies", "Netf", "Netflix")
    carol.fill("#id_sources-0-title", "Lightbulb: routing at Netflix")
    carol.fill("#id_sources-0-publisher", "Netflix Tech Blog")
    carol.fill("#id_sources-0-url", "https://netflixtechblog.com/lightbulb")
    carol.click("input[name=_save]")
    expect(carol.locator(".messagelist")).to_contain_text("was added successfully")

    # An editor assembles an issue with it and sends it to review.
    ed = log_in(new_page, live_server, "ed")
    ed.goto(f"{live_server.url}/admin/digest/issue/add/")
    ed.fill("#id_number", "12")
    ed.fill("#id_title", "Engineering @ Scale — Week of 2026-05-02")
    ed.fill("#id_week_start", "2026-05-02")
    ed.fill("#id_week_end", "2026-05-08")
    ed.fill("#id_slug", "2026-05-02")
    ed.fill("#id_week_in_review", "A week of routing.")
    ed.select_option("#id_placements-0-section", label="Top Stories")
    choose_autocomplete(ed, "id_placements-0-story", "routing", "Netflix moves routing into headers")
    ed.click("input[name=_continue]")
    expect(ed.locator(".messagelist")).to_contain_text("was added successfully")
    expect(ed.locator(".checklist-passed")).to_be_visible()
    workflow_action(ed, "send_to_review")
    expect(ed.locator(".state")).to_have_text("In review")

    # A second editor requests changes with a comment.
    eve = log_in(new_page, live_server, "eve")
    issue_url = ed.url
    eve.goto(issue_url)
    workflow_action(eve, "request_changes", comment="Say what the headers carry.")
    expect(eve.locator(".state")).to_have_text("Draft")
    expect(eve.locator(".audit-log")).to_contain_text("Say what the headers carry.")

    # The first editor fixes it and resubmits.
    ed.goto(issue_url)
    ed.fill("#id_week_in_review", "A week of routing: the headers carry routing keys.")
    ed.click("input[name=_continue]")
    expect(ed.locator(".messagelist")).to_contain_text("was changed successfully")
    workflow_action(ed, "send_to_review")
    expect(ed.locator(".state")).to_have_text("In review")

    # A publisher approves and publishes.
    pat = log_in(new_page, live_server, "pat")
    pat.goto(issue_url)
    workflow_action(pat, "approve")
    expect(pat.locator(".state")).to_have_text("Approved")
    workflow_action(pat, "publish")
    expect(pat.locator(".state")).to_have_text("Published")

    # The issue is on the public site.
    reader = new_page()
    reader.goto(f"{live_server.url}/issues/2026-05-02/")
    expect(reader.locator("h1")).to_have_text("Engineering @ Scale — Week of 2026-05-02")
    expect(reader.locator(".story-title")).to_have_text("Netflix moves routing into headers")
    expect(reader.locator("#corrections")).to_have_count(0)

    # The publisher corrects it, and readers see the correction.
    pat.goto(issue_url)
    pat.fill("#id_week_in_review", "A week of routing: the headers now carry routing keys.")
    pat.click("input[name=_continue]")
    expect(pat.locator(".errorlist")).to_contain_text("add a short public note")
    pat.fill("#id_correction_note", "Clarified what the headers carry.")
    pat.click("input[name=_continue]")
    expect(pat.locator(".messagelist")).to_contain_text("was changed successfully")
    reader.reload()
    expect(reader.locator("#corrections")).to_contain_text(
        re.compile(r"Corrected on .*: Clarified what the headers carry\.")
    )
    expect(reader.locator("#week-in-review")).to_contain_text("the headers now carry routing keys")

    issue = Issue.objects.get(slug="2026-05-02")
    assert issue.state == IssueState.PUBLISHED
    assert list(issue.events.order_by("created_at").values_list("action", "actor__username")) == [
        ("send_to_review", "ed"),
        ("request_changes", "eve"),
        ("send_to_review", "ed"),
        ("approve", "pat"),
        ("publish", "pat"),
        ("correct", "pat"),
    ]


def test_a_story_edited_after_approval_sends_the_issue_back_to_review(new_page, live_server, mailoutbox):
    """The reported bug: a contributor edited a story after approval, and it went out unreviewed."""
    from digest import workflow
    from tests.factories import issue_with_stories

    user_in_role("Contributor", "cora")
    eve = user_in_role("Editor", "eve")
    issue = issue_with_stories(top=1, threads=0, state=IssueState.IN_REVIEW)
    workflow.approve(issue=issue, by=eve)
    story = issue.placements.get().story

    cora = log_in(new_page, live_server, "cora")
    cora.goto(f"{live_server.url}/admin/stories/story/{story.pk}/change/")
    cora.fill("#id_summary", "Rewritten after the approval.")
    cora.click("input[name=_continue]")
    expect(cora.locator(".messagelist")).to_contain_text(f"Issue #{issue.number} was approved: this change sent it")

    approver = log_in(new_page, live_server, "eve")
    approver.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")
    expect(approver.locator(".state")).to_have_text("In review")
    entry = approver.locator(".audit-log tbody tr").first
    expect(entry).to_contain_text("cora")
    expect(entry).to_contain_text(f"“{story.title}”: summary changed.")
    expect(approver.locator(".transition-approve")).to_be_visible()
    assert [message.to for message in mailoutbox] == [["eve@example.com"]]
