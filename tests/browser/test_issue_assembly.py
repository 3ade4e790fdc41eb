"""Assembling an issue in Chromium: stories ordered by dragging and by keyboard, without typing numbers."""

import pytest
from playwright.sync_api import expect

from digest.models import Section
from tests.browser.test_newsroom import log_in
from tests.factories import IssueFactory, PlacementFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row(page, title):
    return page.locator("#placements-group tr.form-row", has_text=title)


def test_drag_a_story_into_another_section_and_reorder_with_the_keyboard(new_page, live_server):
    user_in_role("Editor", "ed")
    issue = IssueFactory()
    for position, title in enumerate(["Alpha", "Bravo", "Charlie"]):
        PlacementFactory(issue=issue, section=Section.TOP_STORIES, position=position, story__title=title)
    PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, position=0, story__title="Delta")

    page = log_in(new_page, live_server, "ed")
    page.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")
    threads = page.locator("#placements-group tr.section-heading", has_text="Developing Threads")
    expect(threads).to_be_visible()

    # Bravo is dragged by its handle onto the Developing Threads heading: first in that section.
    row(page, "Bravo").locator(".drag-handle").drag_to(threads)
    expect(row(page, "Bravo").locator('select[name$="-section"]')).to_have_value(str(Section.DEVELOPING_THREADS))

    # Charlie moves above Alpha with the keyboard alone.
    row(page, "Charlie").get_by_role("button", name="Move up").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".assembly-status")).to_contain_text("Charlie: Top Stories, position 1.")
    # Delta, second in Developing Threads, moves up to first.
    row(page, "Delta").get_by_role("button", name="Move up").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".assembly-status")).to_contain_text("Delta: Developing Threads, position 1.")

    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    preview = new_page(storage_state=page.context.storage_state())
    preview.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/preview/")
    expect(preview.locator("#top-stories .story-title")).to_have_text(["Charlie", "Alpha"])
    expect(preview.locator("#developing-threads .story-title")).to_have_text(["Delta", "Bravo"])


def test_the_section_menu_moves_a_story_to_the_end_of_that_section(new_page, live_server):
    user_in_role("Editor", "ed")
    issue = IssueFactory()
    PlacementFactory(issue=issue, section=Section.TOP_STORIES, position=0, story__title="Alpha")
    PlacementFactory(issue=issue, section=Section.TOP_STORIES, position=1, story__title="Bravo")
    PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, position=0, story__title="Delta")

    page = log_in(new_page, live_server, "ed")
    page.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")
    row(page, "Alpha").locator('select[name$="-section"]').select_option(str(Section.DEVELOPING_THREADS))
    expect(row(page, "Alpha").locator('input[name$="-position"]')).to_have_value("2")
    expect(row(page, "Bravo").locator('input[name$="-position"]')).to_have_value("1")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert list(issue.placements.order_by("section", "position").values_list("story__title", flat=True)) == [
        "Bravo",
        "Delta",
        "Alpha",
    ]
