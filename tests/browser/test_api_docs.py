"""The API's docs page in Chromium: Swagger UI from our own static files, under the site's CSP, no violation."""

import pytest

from tests.factories import IssueFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects every Content-Security-Policy violation the page meets, from its first byte.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_docs_page_renders_every_operation_without_a_csp_violation(live_server, new_page):
    issue = IssueFactory(published=True)
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{live_server.url}/api/v1/docs/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/issues/{slug}/" in [path.replace("\u200b", "") for path in paths]

    # "Try it out" on the list of issues calls the API from the page, as a developer would.
    page.locator(".opblock-summary-path", has_text="/api/v1/issues/").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    page.wait_for_selector(".live-responses-table", timeout=15_000)
    assert issue.slug in page.locator(".live-responses-table").first.inner_text()

    assert page.evaluate("window.__violations") == []
    assert all(url.startswith(live_server.url) for url in requests), "the docs page fetched from elsewhere"
