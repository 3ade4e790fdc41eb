"""Two editors on one story: each page says who else has it open, and notices who arrives."""

import pytest
from playwright.sync_api import expect

from newsroom import presence
from tests.browser.test_newsroom import log_in
from tests.factories import StoryFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_first_editor_sees_the_second_arrive(new_page, live_server, monkeypatch):
    monkeypatch.setattr(presence, "BEAT_SECONDS", 1)
    user_in_role("Editor", username="alice")
    user_in_role("Editor", username="bob")
    story = StoryFactory()
    url = f"{live_server.url}/admin/stories/story/{story.pk}/change/"
    alice = log_in(new_page, live_server, "alice")
    alice.goto(url)
    expect(alice.locator("#presence")).to_be_hidden()
    bob = log_in(new_page, live_server, "bob")
    bob.goto(url)
    expect(bob.locator("#presence")).to_contain_text("alice has been editing this since")
    # Alice's page learns of Bob at its next beat, without reloading.
    expect(alice.locator("#presence")).to_contain_text("bob has been editing this since")
    # Bob leaves for the list of stories: Alice's page sees him go without waiting for his beats to age.
    bob.goto(f"{live_server.url}/admin/stories/story/")
    expect(alice.locator("#presence")).to_be_hidden()


def alice_saves_after_bob(new_page, live_server):
    """Alice and Bob open one story; Bob saves, then Alice saves what she typed and is refused."""
    user_in_role("Editor", username="alice")
    user_in_role("Editor", username="bob")
    story = StoryFactory(title="Opened title", summary="Opened summary")
    url = f"{live_server.url}/admin/stories/story/{story.pk}/change/"
    alice = log_in(new_page, live_server, "alice")
    alice.goto(url)
    bob = log_in(new_page, live_server, "bob")
    bob.goto(url)
    bob.fill("#id_title", "Bob's title")
    bob.fill("#id_summary", "Bob's summary")
    bob.click("input[name=_continue]")
    expect(bob.locator(".messagelist")).to_contain_text("changed successfully")

    alice.fill("#id_title", "Alice's title")
    alice.fill("#id_summary", "Alice's summary")
    alice.click("input[name=_continue]")
    return story, alice


def test_a_refused_save_is_resolved_field_by_field(new_page, live_server):
    story, alice = alice_saves_after_bob(new_page, live_server)
    table = alice.locator(".conflict-fields")
    expect(table.locator("tr[data-field=title]")).to_contain_text("Bob's title")
    expect(table.locator("tr[data-field=title]")).to_contain_text("Alice's title")
    expect(table.locator("tr.conflict-field")).to_have_count(2)
    table.locator("tr[data-field=title]").get_by_label("Take theirs").check()
    table.locator("tr[data-field=summary]").get_by_label("Keep yours").check()
    alice.get_by_role("button", name="Save with my choices").click()
    expect(alice.locator(".messagelist")).to_contain_text("was changed successfully")
    story.refresh_from_db()
    assert (story.title, story.summary) == ("Bob's title", "Alice's summary")


def test_keep_all_yours_chooses_every_field_at_once(new_page, live_server):
    story, alice = alice_saves_after_bob(new_page, live_server)
    alice.get_by_role("button", name="Keep all yours").click()
    alice.get_by_role("button", name="Save with my choices").click()
    expect(alice.locator(".messagelist")).to_contain_text("was changed successfully")
    story.refresh_from_db()
    assert (story.title, story.summary) == ("Alice's title", "Alice's summary")
