"""The inbox in Chromium: moving with j/k, dismissing with d, making a story with s, shortcuts turned off."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from intake.models import Candidate, CandidateState
from stories.models import Story
from tests.browser.sessions import log_in
from tests.browser.test_reader import AXE
from tests.factories import CandidateFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_triages_the_inbox_with_the_keyboard(new_page, live_server):
    user_in_role("Editor", "erin")
    now = timezone.now()
    first, second, third = (
        CandidateFactory(title=title, published_at=now - datetime.timedelta(hours=hours))
        for hours, title in [(1, "Newest post"), (2, "Second post"), (3, "Third post")]
    )
    page = log_in(new_page(viewport={"width": 1280, "height": 900}), live_server, "erin")
    page.goto(f"{live_server.url}/admin/intake/candidate/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="Newest post")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class("inbox-current")
    page.keyboard.press("d")
    expect(page.get_by_role("status")).to_have_text("Dismissed: Second post")
    expect(rows.nth(1).locator(".state")).to_have_text("dismissed")
    expect(rows.nth(2)).to_have_attribute("aria-current", "true")  # moved on to the next post
    assert Candidate.objects.get(pk=second.pk).state == CandidateState.DISMISSED

    page.keyboard.press("s")
    expect(page).to_have_url(re.compile(r"/admin/stories/story/\d+/change/$"))
    story = Story.objects.get()
    assert page.url.endswith(f"/admin/stories/story/{story.pk}/change/")
    expect(page.locator("#id_title")).to_have_value("Third post")
    expect(page.locator(".messagelist")).to_contain_text("Draft story made from the post")
    assert Candidate.objects.get(pk=third.pk).story == story
    assert Candidate.objects.get(pk=first.pk).state == CandidateState.NEW


def test_single_key_shortcuts_can_be_turned_off_and_stay_off(new_page, live_server):
    user_in_role("Editor", "erin")
    CandidateFactory(title="A post")
    page = log_in(new_page(bypass_csp=True), live_server, "erin")  # bypass: the test injects axe
    page.goto(f"{live_server.url}/admin/intake/candidate/")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    axe = page.evaluate("async () => await axe.run({include: [['#inbox-keys'], ['#result_list']]})")
    assert axe["passes"] and [v["id"] for v in axe["violations"]] == []
    page.get_by_label("Single-key shortcuts").uncheck()
    page.reload()
    expect(page.get_by_label("Single-key shortcuts")).not_to_be_checked()
    page.keyboard.press("j")
    page.keyboard.press("d")
    expect(page.locator("#result_list tbody tr").first).not_to_have_attribute("aria-current", "true")
    page.get_by_label("Single-key shortcuts").check()
    page.locator("#searchbar").press_sequentially("jd")  # typing in a field is typing, never a shortcut
    expect(page.locator("#result_list tbody tr").first).not_to_have_attribute("aria-current", "true")
    assert Candidate.objects.get().state == CandidateState.NEW
    page.get_by_role("button", name="Dismiss").click()  # every action is a button too
    expect(page.locator(".messagelist")).to_contain_text("“A post” dismissed.")
    assert Candidate.objects.get().state == CandidateState.DISMISSED
