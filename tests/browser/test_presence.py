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
