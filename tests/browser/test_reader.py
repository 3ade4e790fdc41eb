"""The reader site in a real browser (the session's Chromium, see conftest.py).

Each page type is opened at phone and desktop widths, in light and dark colour schemes,
checked with axe-core (zero violations), and saved as a screenshot in var/screenshots/.
The issue page's contents links are followed.
"""

import pytest
from django.conf import settings

from tests.reader_pages import build_reader_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}


@pytest.fixture
def reader_pages(db):
    return build_reader_pages()


@pytest.fixture(autouse=True)
def _axe_is_installed():
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` (make test does).")


def open_page(browser, url, *, viewport, color_scheme="light"):
    # The site's Content-Security-Policy forbids inline scripts: axe is injected by the test,
    # so the test (not the site) bypasses it.
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=color_scheme, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    response = page.goto(url)
    return context, page, response


def axe_violations(page):
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert results["testEngine"]["name"] == "axe-core" and results["passes"], "axe-core did not run"
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in results["violations"]
    ]


PAGE_STATUSES = {"not-found": 404, "withdrawn": 410, "search-refused": 400}


def test_every_page_type_is_accessible_and_photographed(browser, live_server, reader_pages):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = {}
    for name, path in reader_pages.items():
        for viewport, color_scheme in (("desktop", "light"), ("phone", "dark")):
            context, page, response = open_page(
                browser, live_server.url + path, viewport=viewport, color_scheme=color_scheme
            )
            try:
                assert response.status == PAGE_STATUSES.get(name, 200), path
                assert page.locator("h1").count() == 1, path
                page.screenshot(path=SCREENSHOTS / f"{name}-{viewport}-{color_scheme}.png", full_page=True)
                violations = axe_violations(page)
                if violations:
                    problems[f"{name} ({viewport}, {color_scheme})"] = violations
            finally:
                context.close()
    assert problems == {}


def test_contents_links_lead_to_their_sections_and_stories(browser, live_server, reader_pages):
    context, page, _ = open_page(browser, live_server.url + reader_pages["issue"], viewport="desktop")
    try:
        links = page.locator("nav.contents a")
        targets = [links.nth(index).get_attribute("href") for index in range(links.count())]
        assert len(targets) == 10  # 4 sections + 6 stories of the demo issue
        for target in targets:
            page.locator(f'nav.contents a[href="{target}"]').click()
            assert page.url.endswith(target)
            heading = page.locator(f"{target} h2, {target} h3").first
            assert heading.is_visible()
            box = heading.bounding_box()
            assert 0 <= box["y"] < VIEWPORTS["desktop"]["height"], f"{target} is not scrolled into view"
        # Story pages link back: from a company page to the story's anchor in its issue.
        page.goto(live_server.url + reader_pages["company"])
        page.locator(".timeline-title a").first.click()
        assert "#" in page.url and page.locator(page.url[page.url.index("#") :]).is_visible()
    finally:
        context.close()


def test_reading_needs_no_javascript(browser, live_server, reader_pages):
    context = browser.new_context(java_script_enabled=False, viewport=VIEWPORTS["phone"])
    try:
        page = context.new_page()
        page.goto(live_server.url + reader_pages["issue"])
        assert page.locator("article.story").count() == 6
        page.locator('nav.contents a[href="#patterns"]').click()
        assert page.locator("#patterns h2").is_visible()
        page.goto(live_server.url + "/search/")
        page.fill("input[name=q]", "durable")
        page.click("button[type=submit]")
        assert "durable" in page.url and page.locator(".result").count() >= 1
    finally:
        context.close()
