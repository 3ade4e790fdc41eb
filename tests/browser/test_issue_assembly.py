"""Assembling an issue in Chromium: stories ordered by dragging and by keyboard, without typing numbers."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from digest.models import Section
from stories.models import Story
from tests.browser.test_newsroom import choose_autocomplete, log_in
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def save_and_see_it_close(popup):
    """Save the popup's form and wait until the popup closes, handing the new object back.

    The wait starts before the click: the saved page closes itself at once, and a close that
    happened before a wait began would never be seen (it failed CI that way, twice).
    """
    try:
        with popup.expect_event("close", timeout=30_000):
            popup.click("input[name=_save]")
    except PlaywrightTimeoutError:
        errors = popup.locator(".errornote, .errorlist").all_inner_texts()
        pytest.fail(f"The popup stayed open at {popup.url} showing {errors or 'no error'}")


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


def test_write_a_new_story_in_place_and_move_it_into_a_section(new_page, live_server):
    user_in_role("Editor", "ed")
    CompanyFactory(name="Netflix", slug="netflix")
    issue = IssueFactory()
    PlacementFactory(issue=issue, section=Section.TOP_STORIES, position=0, story__title="Alpha")
    PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, position=0, story__title="Delta")

    page = log_in(new_page, live_server, "ed")
    page.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/change/")
    # The rows with their controls and checklist column fit the screen.
    for width in (1280, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width

    with page.expect_popup() as opened:
        page.click("#add_id_placements-2-story")
    story = opened.value
    story.fill("#id_title", "Written in place")
    story.fill("#id_summary", "Written from the issue page.")
    choose_autocomplete(story, "id_companies", "Netf", "Netflix")
    story.fill("#id_sources-0-title", "The post")
    story.fill("#id_sources-0-publisher", "Netflix Tech Blog")
    story.fill("#id_sources-0-url", "https://netflixtechblog.com/post")
    save_and_see_it_close(story)  # the save, then the popup hands the new story back
    expect(page.locator("#id_placements-2-story")).to_have_value(str(Story.objects.get(title="Written in place").pk))

    # From the new rows, up into Developing Threads after Delta, then first in it.
    new = row(page, "Written in place")
    new.get_by_role("button", name="Move up").click()
    expect(page.locator(".assembly-status")).to_contain_text("Written in place: Developing Threads, position 2.")
    new.get_by_role("button", name="Move up").click()
    expect(page.locator(".assembly-status")).to_contain_text("Written in place: Developing Threads, position 1.")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    saved = row(page, "Written in place")
    expect(saved.locator(".story-companies")).to_have_text("Netflix")
    expect(saved.locator(".story-problem")).to_have_text(["no theme"])

    preview = new_page(storage_state=page.context.storage_state())
    preview.goto(f"{live_server.url}/admin/digest/issue/{issue.pk}/preview/")
    expect(preview.locator("#developing-threads .story-title")).to_have_text(["Written in place", "Delta"])
