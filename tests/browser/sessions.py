"""Signing in to the newsroom in Chromium, as the browser tests' people do."""

from playwright.sync_api import expect

PASSWORD = "correct horse battery staple"  # what tests.factories.user_in_role gives everyone


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username.upper(), ignore_case=True)
    return page
