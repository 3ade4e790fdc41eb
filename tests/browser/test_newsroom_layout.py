"""Every newsroom page of issue 14 at 1280 and 1366 px: no horizontal scroll, zero axe-core violations.

One demo data set and one logged-in browser context per role; each page is opened once and
checked at both widths (the viewport is resized in place). A screenshot of each page at each
width is saved as var/screenshots/newsroom/<page>-<width>.png.
"""

import datetime
import json

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from digest import previews
from digest.models import IssueState, Section
from stories.models import Story
from tests.browser.sessions import PASSWORD, log_in
from tests.factories import (
    CompanyFactory,
    IssueFactory,
    PlacementFactory,
    SourceFactory,
    StoryFactory,
    ThemeFactory,
    issue_with_stories,
    user_in_role,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots" / "newsroom"
WIDTHS = (1280, 1366)
HEIGHT = 800

# A long address without a place to break: what overflowed the sources table at 1366 px.
LONG_URL = "https://engineering.example.com/blog/2026/11/" + "how-we-moved-routing-into-headers-" * 4 + "part-2"


@pytest.fixture(autouse=True)
def _axe_is_installed():
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` (make test does).")


class LayoutCheck:
    """Check the page open in ``page`` at each width; collect what fails, page by page."""

    def __init__(self):
        self.problems = {}
        self.checked = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            # Let the page settle: a resize makes Select2 redraw its widgets, which
            # static/newsroom/select2-labels.js names again on the next animation frame.
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            found = []
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                found.append(f"scrolls sideways: {scroll_width} px wide at {width} px ({overflowing(page)})")
            reported = len(page.errors)
            found += axe_violations(page)
            # axe itself sets inline styles on some widgets while it measures them, which the page's
            # Content-Security-Policy refuses and reports: the test's doing, not the page's.
            del page.errors[reported:]
            # caret="initial": hiding the caret would add an inline style, which the page's CSP refuses.
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True, caret="initial")
            if found:
                self.problems[f"{name} at {width} px"] = found
        self.checked.append(name)


def overflowing(page):
    """Name the widest elements reaching past the viewport's right edge, to say what to fix."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                 (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))
            .join(', ')"""
    )


def axe_violations(page):
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["name"] == "axe-core" and results["passes"], "axe-core did not run"
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
    ]


def role_page(browser, live_server, username=None):
    """A browser context for one person (axe injected before any page script), logged in when named."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
    context.set_default_timeout(15_000)
    # An init script runs outside the page's Content-Security-Policy, which stays enforced.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(f"{page.url}: {message.text}"),
    )
    page.errors = errors
    if username:
        log_in(page, live_server, username)
    return page


def demo_newsroom():
    """The newsroom as it stands mid-week: one issue of each state, stories with long sources."""
    pat, ed = user_in_role("Publisher", "pat"), user_in_role("Editor", "ed")
    user_in_role("Contributor", "carol")
    netflix = CompanyFactory(name="Netflix", slug="netflix", description="Streams video to the world.")
    theme = ThemeFactory(name="Durable execution", slug="durable-execution", description="Workflows that survive.")
    story = StoryFactory(
        title="Netflix moves routing keys into headers, and what it taught them about retries",
        summary="Routing keys now travel in **headers**.\n\n- fewer hops\n- one [source](https://example.com/)",
        companies=[netflix],
        themes=[theme],
        sources=False,
    )
    story.tags.set(["routing", "retries"])
    SourceFactory(story=story, title="Lightbulb: routing at Netflix, a very long title " * 2, url=LONG_URL)
    SourceFactory(story=story, title="Follow-up", publisher="Netflix Tech Blog", url="https://example.com/b")
    for title in ("Routing keys travel in headers", "Routing keys travel in headers and retries"):
        Story.objects.filter(pk=story.pk).update(title=title)
        story.refresh_from_db()
        story.title = title + " (edited)"
        story.save()  # a revision each, for the history pages

    draft = IssueFactory(title="Engineering @ Scale — the week being assembled")
    PlacementFactory(issue=draft, story=story, section=Section.TOP_STORIES, position=0)
    PlacementFactory(issue=draft, section=Section.TOP_STORIES, position=1, story__companies=[netflix])
    PlacementFactory(issue=draft, section=Section.DEVELOPING_THREADS, position=0, story__summary="")
    issue_with_stories(state=IssueState.IN_REVIEW, title="Awaiting review")
    approved = issue_with_stories(state=IssueState.APPROVED, title="Approved, with share links")
    previews.make_share_link(issue=approved, by=pat)
    previews.make_share_link(issue=approved, by=pat)
    issue_with_stories(
        state=IssueState.SCHEDULED, title="Going out", publish_at=timezone.now() + datetime.timedelta(days=2)
    )
    published = issue_with_stories(published=True, title="Out last week")
    netflix.name = "Netflix, Inc."
    netflix.save()  # a company revision
    theme.description = "Workflows that survive crashes."
    theme.save()
    return {"story": story, "draft": draft, "approved": approved, "published": published, "company": netflix,
            "theme": theme, "ed": ed}  # fmt: skip


def test_every_newsroom_page_fits_1280_and_1366_and_passes_axe(browser, live_server):
    demo = demo_newsroom()
    url = live_server.url
    story, draft, approved, published = demo["story"], demo["draft"], demo["approved"], demo["published"]
    check = LayoutCheck()
    pages = []

    anonymous = role_page(browser, live_server)
    pages.append(anonymous)
    anonymous.goto(f"{url}/admin/login/")
    check(anonymous, "login")

    ed = role_page(browser, live_server, "ed")
    pages.append(ed)
    for name, path in [
        ("newsroom-home", "/admin/"),
        ("models", "/admin/models/"),
        ("issue-changelist", "/admin/digest/issue/"),
        ("issue-change-draft", f"/admin/digest/issue/{draft.pk}/change/"),
        ("issue-change-published-read-only", f"/admin/digest/issue/{published.pk}/change/"),
        ("story-delete-confirmation", f"/admin/stories/story/{story.pk}/delete/"),
        ("story-changelist", "/admin/stories/story/"),
        ("story-add", "/admin/stories/story/add/"),  # with "Save and add to issue"
        ("story-change", f"/admin/stories/story/{story.pk}/change/"),
        ("story-history", f"/admin/stories/story/{story.pk}/history/"),
        ("story-revision", f"/admin/stories/story/{story.pk}/history/{story.history.earliest().history_id}/"),
        ("company-change", f"/admin/companies/company/{demo['company'].pk}/change/"),
        ("company-history", f"/admin/companies/company/{demo['company'].pk}/history/"),
        ("theme-change", f"/admin/stories/theme/{demo['theme'].pk}/change/"),
        ("theme-history", f"/admin/stories/theme/{demo['theme'].pk}/history/"),
    ]:
        response = ed.goto(url + path)
        assert response.status == 200, path
        if name == "story-change":
            expect(ed.locator(".markdown-preview")).to_contain_text("fewer hops")
        if name == "story-add":
            expect(ed.locator(".add-to-issue")).to_be_visible()
        check(ed, name)

    # A refused save: someone else saved the story since this form was opened.
    ed.goto(f"{url}/admin/stories/story/{story.pk}/change/")
    theirs = Story.objects.get(pk=story.pk)
    theirs.title, theirs.version = "Their title, saved first", theirs.version + 1
    theirs.save()
    ed.fill("#id_title", "My title, saved second")
    ed.click("input[name=_continue]")
    expect(ed.locator(".conflict-fields")).to_be_visible()
    check(ed, "story-conflict")

    pat = role_page(browser, live_server, "pat")
    pages.append(pat)
    pat.goto(f"{url}/admin/digest/issue/{approved.pk}/change/")
    expect(pat.locator("tr.share-link-live")).to_have_count(2)
    check(pat, "issue-change-share-links")
    pat.get_by_role("button", name="Revoke all share links…").click()
    expect(pat.locator(".consequences")).to_be_visible()
    check(pat, "revoke-all-confirmation")
    pat.goto(f"{url}/admin/digest/issue/{published.pk}/change/")
    pat.locator(".transition-withdraw button").click()
    expect(pat.locator(".confirm-panel")).to_be_visible()
    check(pat, "withdraw-confirmation")
    pat.goto(f"{url}/admin/digest/issue/{draft.pk}/delete/")
    check(pat, "issue-delete-confirmation")
    pat.goto(f"{url}/admin/digest/publicationrun/report/")
    check(pat, "publishing-report")

    carol = role_page(browser, live_server, "carol")
    pages.append(carol)
    assert carol.goto(f"{url}/admin/digest/issue/add/").status == 403
    check(carol, "refused-403")
    carol.goto(f"{url}/admin/digest/issue/{draft.pk}/change/")
    expect(carol.get_by_role("note")).to_contain_text("Read only.")
    check(carol, "issue-change-read-only")

    # A save after the session expired: the login page, then the form again with what was typed.
    ed.goto(f"{url}/admin/digest/issue/{draft.pk}/change/")
    ed.fill("#id_week_in_review", "Typed for an hour.")
    cookies = {cookie["name"]: cookie["value"] for cookie in ed.context.cookies(url)}
    Session.objects.filter(session_key=cookies[settings.SESSION_COOKIE_NAME]).delete()
    ed.locator("input[name=_save]").click()
    expect(ed.locator("#id_username")).to_be_visible()
    check(ed, "expired-session-login")
    ed.fill("#id_username", "ed")
    ed.fill("#id_password", PASSWORD)
    ed.click("input[type=submit]")
    expect(ed.locator("#id_week_in_review")).to_have_value("Typed for an hour.")
    check(ed, "expired-session-form-kept")

    errors = [error for page in pages for error in page.errors]
    for page in pages:
        page.context.close()
    (SCREENSHOTS / "problems.json").write_text(json.dumps(check.problems, indent=2))
    assert check.problems == {}
    assert errors == []
    print(f"\n{len(check.checked)} newsroom pages checked at {WIDTHS} px; screenshots in {SCREENSHOTS}")
