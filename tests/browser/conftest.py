"""Browser tests drive Debian's Chromium through Playwright against a live server."""

import os
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run bin/system-deps (Debian's chromium package).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database
    # calls are still synchronous, so Django's async guard does not apply to them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (one per person); all are closed after the test.

    The test fails if any page broke the Content-Security-Policy or raised a script error.
    """
    contexts, problems = [], []

    def open_page(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        # Every page of the context is watched, popups (an in-place story, a related object) too.
        context.on("page", lambda page: _watch(problems, page))
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    _wait_for_requests_to_finish()
    assert problems == [], "The browser reported problems"


def _wait_for_requests_to_finish(timeout=30.0):
    """Wait until no other connection to the test database is inside a statement or transaction.

    A closed page's last request (a presence beat, an autosave) can still be running in the live
    server's thread. The test database is emptied after each test with TRUNCATE, which locks
    every table one by one; a request still holding one table and asking for the next deadlocks
    with it, and PostgreSQL cancels the TRUNCATE (seen in CI on a two-editors test).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite empties tables with DELETE under one database lock: no such deadlock.
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
    # Still busy (a worker's long task): the TRUNCATE then waits for it, as before.


def _watch(problems, page):
    page.on("console", lambda message: _note(problems, page, message))
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))


def _note(problems, page, message):
    if message.type == "error" and ("Content Security Policy" in message.text or "Refused" in message.text):
        problems.append(f"{page.url}: {message.text}")
