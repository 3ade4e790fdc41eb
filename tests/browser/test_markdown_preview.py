"""A story's summary is shown rendered beside it while it is typed, as the site will show it."""

import pytest
from playwright.sync_api import expect

from stories.models import SUMMARY_MAX_LENGTH
from tests.browser.test_newsroom import PASSWORD, log_in
from tests.browser.test_xss import ACTIVE_ATTRIBUTES
from tests.factories import user_in_role
from tests.xss_corpus import PAYLOADS, packed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREVIEW_PATH = "/admin/stories/story/markdown-preview/"


def preview_requests(page):
    sent = []
    page.on("request", lambda request: sent.append(request) if request.url.endswith(PREVIEW_PATH) else None)
    return sent


def test_typing_updates_the_preview_after_a_pause(new_page, live_server):
    user_in_role("Contributor", "carol")
    page = log_in(new_page, live_server, "carol")
    sent = preview_requests(page)
    page.goto(f"{live_server.url}/admin/stories/story/add/")
    panel = page.locator(".field-summary .markdown-preview")
    status = panel.locator(".markdown-preview-status")
    expect(status).to_have_text("Preview")
    expect(panel.locator(".markdown-preview-body")).to_have_text("Nothing to preview yet.")
    # The panel sits beside the field, not under it.
    field_box, panel_box = page.locator("#id_summary").bounding_box(), panel.bounding_box()
    assert panel_box["x"] >= field_box["x"] + field_box["width"] and abs(panel_box["y"] - field_box["y"]) < 5
    sent.clear()

    text = "Routing keys now travel in **headers**, see [the post](https://example.com/routing)."
    page.locator("#id_summary").press_sequentially(text, delay=15)
    # Keystrokes closer than 300 ms apart send nothing until the pause after the last one.
    expect(status).to_have_text("Preview")
    body = panel.locator(".markdown-preview-body")
    expect(body.locator("strong")).to_have_text("headers")
    expect(body.locator("a")).to_have_attribute("href", "https://example.com/routing")
    assert 1 <= len(sent) <= 3, f"{len(sent)} previews for {len(text)} keystrokes"
    assert sent[-1].post_data == text

    # What a save would refuse is said beside the preview.
    page.locator("#id_summary").press_sequentially("\n\n## Why", delay=15)
    expect(panel.locator(".markdown-preview-problems")).to_contain_text("Use ### or smaller for headings")
    expect(body).to_contain_text("Why")


def test_a_summary_too_long_to_save_says_so_in_the_preview(new_page, live_server):
    user_in_role("Contributor", "carol")
    page = log_in(new_page, live_server, "carol")
    page.goto(f"{live_server.url}/admin/stories/story/add/")
    status = page.locator(".markdown-preview-status")
    expect(status).to_have_text("Preview")
    page.fill("#id_summary", "x" * (SUMMARY_MAX_LENGTH + 1))
    expect(status).to_have_text("Preview not updated: Too long to preview: a summary holds at most 10,000 characters.")
    page.fill("#id_summary", "Short *again*.")
    expect(status).to_have_text("Preview")
    expect(page.locator(".markdown-preview-body em")).to_have_text("again")


@pytest.mark.parametrize("bypass_csp", [True, False], ids=["sanitiser-alone", "with-csp"])
def test_no_payload_of_the_xss_corpus_runs_in_the_preview(new_page, live_server, bypass_csp):
    """With the CSP bypassed the sanitiser alone must hold; with it, no violation may even be reported."""
    user_in_role("Contributor", "carol")
    executions = []
    page = new_page(bypass_csp=bypass_csp)
    page.expose_function("__xss", lambda n: executions.append(f"payload {n} ran"))
    page.on("dialog", lambda dialog: (executions.append(f"dialog {dialog.message!r}"), dialog.dismiss()))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/stories/story/add/")
    body = page.locator(".markdown-preview-body")
    groups = packed(PAYLOADS, SUMMARY_MAX_LENGTH, separator="\n\n")
    for text in groups:
        page.fill("#id_summary", text)
        expect(page.locator(".markdown-preview-status")).to_have_text("Preview")
        expect(body).to_contain_text(PAYLOADS[-1].strip("\u2028\u2029")[:20])
        page.wait_for_timeout(100)  # let media errors, focus and animations fire
        assert page.evaluate(ACTIVE_ATTRIBUTES) == []
    assert executions == []
