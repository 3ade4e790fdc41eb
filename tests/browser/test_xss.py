"""The XSS corpus, stored in every editor-writable field, never runs in a reader's or an editor's browser.

Every public page, feed and admin page that shows the corpus is opened in Chromium with
the Content-Security-Policy bypassed, so what is tested is the escaping and sanitising
itself (CSP is the second line). A payload that ran would call ``__xss(n)``, exposed by
the test, or open a dialog. The DOM must also hold no event-handler attribute and no
``javascript:``/``data:`` link, which would run on a click.
"""

import pytest

from tests.browser.test_newsroom import PASSWORD
from tests.xss_corpus import plant_xss_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every attribute that would run script on an event, or a URL that would run on a click.
ACTIVE_ATTRIBUTES = """() => {
  const active = [];
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (name.startsWith('on') ||
          (['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc'].includes(name) &&
           (value.startsWith('javascript:') || value.startsWith('data:text') || name === 'srcdoc'))) {
        active.push(`<${element.tagName.toLowerCase()} ${name}="${attribute.value.slice(0, 60)}">`);
      }
    }
  }
  return active;
}"""


def public_urls(corpus):
    issue = corpus["issue"]
    urls = ["/", "/issues/", issue.get_absolute_url(), "/companies/", "/feed/", "/feed/atom/", "/sitemap.xml"]
    for topic in (*corpus["companies"], *corpus["themes"]):
        urls += [topic.get_absolute_url(), f"{topic.get_absolute_url()}feed/"]
    # Atom writes the same texts as RSS in another shape: once per kind of topic is enough.
    urls += [f"{corpus[kind][0].get_absolute_url()}feed/atom/" for kind in ("companies", "themes")]
    urls += [f"/tags/{tag.slug}/" for tag in corpus["tags"]]
    urls += ["/search/?q=script", "/search/?q=xss", "/search/?q=%3Cscript%3E__xss(0)%3C%2Fscript%3E"]
    return urls


def admin_urls(corpus):
    issue, story, company, theme, tag = (
        corpus["issue"],
        corpus["stories"][0],
        corpus["companies"][0],
        corpus["themes"][0],
        corpus["tags"][0],
    )
    urls = [
        "/admin/",
        "/admin/digest/issue/",
        f"/admin/digest/issue/{issue.pk}/change/",
        f"/admin/digest/issue/{issue.pk}/history/",
        f"/admin/digest/issue/{issue.pk}/preview/",
        "/admin/stories/story/",
        f"/admin/stories/story/{story.pk}/change/",
        f"/admin/stories/story/{story.pk}/history/",
        "/admin/companies/company/",
        f"/admin/companies/company/{company.pk}/change/",
        f"/admin/companies/company/{company.pk}/history/",
        "/admin/stories/theme/",
        f"/admin/stories/theme/{theme.pk}/change/",
        f"/admin/stories/theme/{theme.pk}/history/",
        "/admin/models/",
        "/admin/taggit/tag/",
        f"/admin/taggit/tag/{tag.pk}/change/",
        "/admin/digest/publicationrun/report/",
        "/admin/stories/story/?q=script",
    ]
    # Each revision of a story and an issue, as the history shows it.
    for model in (type(issue), type(story)):
        record = model.history.filter(id=(issue if model is type(issue) else story).pk).first()
        app, name = model._meta.app_label, model._meta.model_name
        urls.append(f"/admin/{app}/{name}/{record.id}/history/{record.history_id}/")
    return urls


# Admin pages that show no text an editor typed (the list of models) or none of the corpus.
NO_TEXT_FROM_EDITORS = ("/admin/models/", "/admin/digest/publicationrun/report/")


def _trapped_page(new_page, executions):
    page = new_page(bypass_csp=True)
    page.expose_function("__xss", lambda n: executions.append(f"{page.url}: payload {n} ran"))
    page.on("dialog", lambda dialog: (executions.append(f"{page.url}: dialog {dialog.message!r}"), dialog.dismiss()))
    return page


def _visit(page, url, executions, active):
    """Open ``url``; return its response and whether the page shows payloads (as text, harmlessly)."""
    response = page.goto(url)
    assert response is not None and response.status < 500, f"{url} answered {response and response.status}"
    page.wait_for_timeout(50)  # let autofocus, animations and media errors fire
    active += [f"{url}: {attribute}" for attribute in page.evaluate(ACTIVE_ATTRIBUTES)]
    return response, "__xss(" in page.content()


@pytest.fixture
def corpus(transactional_db):
    return plant_xss_corpus(with_pdf=False)  # the PDF is checked in tests/digest/test_xss_outputs.py


def test_no_payload_runs_on_any_public_page_or_feed(new_page, live_server, corpus):
    executions, active = [], []
    page = _trapped_page(new_page, executions)
    urls = public_urls(corpus)
    for path in urls:
        response, shows_payloads = _visit(page, live_server.url + path, executions, active)
        assert response.status == 200, f"{path} answered {response.status}"
        assert shows_payloads or path == "/sitemap.xml", f"{path} shows no payload: the test would prove nothing"
    assert executions == []
    assert active == []
    assert len(urls) > 30


def test_no_payload_runs_in_the_admin(new_page, live_server, corpus, superuser):
    executions, active = [], []
    page = _trapped_page(new_page, executions)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", superuser.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    for path in admin_urls(corpus):
        response, shows_payloads = _visit(page, live_server.url + path, executions, active)
        assert response.status == 200, f"{path} answered {response.status}"
        assert shows_payloads or path in NO_TEXT_FROM_EDITORS, f"{path}: no payload"
    assert executions == []
    assert active == []


def test_the_trap_catches_a_payload_that_runs(new_page, live_server):
    """The trap can fail: a payload planted in a page unescaped is caught, by call and by dialog."""
    executions, active = [], []
    page = _trapped_page(new_page, executions)
    page.route(
        "**/planted/",
        lambda route: route.fulfill(
            content_type="text/html", body="<img src=x onerror=__xss(1)><script>alert(2)</script>"
        ),
    )
    _visit(page, live_server.url + "/planted/", executions, active)
    page.wait_for_timeout(200)
    assert len(executions) == 2, executions
    assert active == [f'{live_server.url}/planted/: <img onerror="__xss(1)">']
