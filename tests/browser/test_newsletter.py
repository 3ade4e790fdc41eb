"""Subscribing from the footer of a cached page in Chromium: the reader sees the answer, no cookie is set."""

import pytest

from newsletter.models import Subscriber, SubscriberStatus
from tests.reader_pages import build_reader_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_subscribe_from_the_footer_of_a_cached_issue_page(new_page, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    pages = build_reader_pages()
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server.url + pages["issue"])
    page.goto(live_server.url + pages["issue"])  # the second visit is served from the page cache
    page.get_by_label("Get each issue by email").fill("phone-reader@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_selector("text=Check your inbox")
    assert page.context.cookies() == []
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    # The honeypot is out of sight and out of the keyboard's way.
    trap = page.locator("input[name=website]").first
    assert not trap.is_visible() or trap.bounding_box()["x"] < 0
