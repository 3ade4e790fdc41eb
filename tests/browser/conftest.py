"""Browser tests drive Debian's Chromium through Playwright against a live server."""

import os
import threading
import time
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started

CHROMIUM = Path("/usr/bin/chromium")


class _LiveServerRequests:
    """Whether the live server is handling a request now.

    The live server answers each request in a thread of its own (the test's own client runs
    in the main thread and is not counted). A thread that ended without finishing its request
    (a receiver of request_finished raised) is not waited for.
    """

    def __init__(self):
        self._threads, self._lock = set(), threading.Lock()
        request_started.connect(self._started, dispatch_uid="browser_tests.request_started")
        request_finished.connect(self._finished, dispatch_uid="browser_tests.request_finished")

    def _started(self, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            with self._lock:
                self._threads.add(threading.current_thread())

    def _finished(self, **kwargs):
        with self._lock:
            self._threads.discard(threading.current_thread())

    @property
    def busy(self):
        with self._lock:
            self._threads = {thread for thread in self._threads if thread.is_alive()}
            return bool(self._threads)


_live_requests = _LiveServerRequests()
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
    """Wait until the live server has answered every request, and no other connection to the test
    database is inside a statement or transaction (PostgreSQL).

    A closed page's last request (a presence beat, an autosave) can still be running in the live
    server's thread when the test ends, and the test database is then emptied. On PostgreSQL
    that is TRUNCATE, which locks every table one by one: a request still holding one table and
    asking for the next deadlocks with it, and PostgreSQL cancels the TRUNCATE (seen in CI on a
    two-editors test). On SQLite the flush fails on the table the request holds ("database table
    is locked: auth_permission", seen in a newcomer's make test).
    """
    from django.db import connection

    deadline = time.monotonic() + timeout
    while _live_requests.busy and time.monotonic() < deadline:
        time.sleep(0.02)
    if connection.vendor != "postgresql":
        return
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
