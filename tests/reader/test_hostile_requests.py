"""Hostile query strings, odd addresses and form posts on every public URL: never a 500.

A reader's mistake or a scanner's probe gets a 4xx with the site's own friendly page (or,
for a feed, sitemap or PDF, a plain refusal), and an unknown parameter is ignored.
"""

import pytest
from django.test import Client

from tests.reader_pages import build_reader_pages

HOSTILE_QUERIES = [
    "page=-1",
    "page=0",
    "page=10" + "0" * 30,
    "page=1e3",
    "page=abc",
    "page=%00",
    "page=1&page=2&page=-3",
    "q=%00",
    "q=a%00b",
    "q=" + "x" * 10_000,
    "q=" + "durable+" * 1_500,
    "q=%ff%fe%fd",
    "q=%c3%28",
    "q=%",
    "q=%zz",
    "q=%ed%a0%80",  # a UTF-16 surrogate, encoded as UTF-8
    "q=%3Cscript%3Ealert(1)%3C/script%3E",
    "q=' OR 1=1 --",
    "q=!!!:*&|()",
    "q=%E2%80%AE%E2%80%8B",
    "q=durable&q=execution",
    "company=%00",
    "company=../../etc/passwd",
    "company=no-such-company",
    "theme=" + "t" * 5_000,
    "year=-1",
    "year=99999999999999999999",
    "year=%00",
    "utm_source=x&unknown=1&" + "&".join(f"p{n}=v" for n in range(200)),
    "a[]=1&a[x]=2",
    "=&&&==",
    "%ff=%ff",
]

ODD_PATHS = [
    "/issues/%00/",
    "/issues/..%2f..%2fetc%2fpasswd/",
    "/issues/%ff%fe/",
    "/issues/" + "a" * 2_000 + "/",
    "/issues/a%20b.pdf",
    "/issues/%00.pdf",
    "/issues/" + "a" * 2_000 + ".pdf",
    "/companies/%00/",
    "/companies/%ff/",
    "/companies/" + "c" * 2_000 + "/feed/",
    "/themes/%E2%80%AE/",
    "/themes/%00/feed/atom/",
    "/tags/%00/",
    "/tags/%ff%fe/",
    "/tags/%3Cscript%3E/",
    "/tags/..%2f/",
    "/tags/" + "%E6%97%A5" * 500 + "/",
    "/preview/%00/",
    "/preview/" + "x" * 5_000 + "/",
    "/preview/not.a.token/",
    "/search/%00",
    "/feed/%00/",
    "/sitemap.xml%00",
    "/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.fixture
def public_urls(db):
    pages = build_reader_pages()
    issue, company, theme = pages["issue"], pages["company"], pages["theme"]
    return [
        *pages.values(),
        issue.rstrip("/") + ".pdf",
        company + "feed/",
        company + "feed/atom/",
        theme + "feed/",
        theme + "feed/atom/",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/robots.txt",
        "/healthz",
        "/preview/bad-token/",
    ]


def _assert_handled(response, url):
    assert response.status_code < 500, f"{url} answered {response.status_code}"
    content_type = response.get("Content-Type", "")
    if 400 <= response.status_code < 500 and response.status_code != 405 and "html" in content_type:
        # The site's own error page: its layout, a way on, and no Django debug page.
        body = response.content.decode()
        assert "Engineering @ Scale" in body and 'href="/"' in body, f"{url}: not the friendly error page"


@pytest.mark.django_db
def test_hostile_query_strings_on_every_public_url_never_give_a_500(client, public_urls):
    tried = 0
    for url in public_urls:
        separator = "&" if "?" in url else "?"
        for query in HOSTILE_QUERIES:
            _assert_handled(client.get(f"{url}{separator}{query}"), f"{url}{separator}{query[:80]}")
            tried += 1
    assert tried == len(public_urls) * len(HOSTILE_QUERIES)


@pytest.mark.django_db
def test_a_bad_page_number_is_the_friendly_404_and_a_bad_search_the_form_with_what_to_fix(client, public_urls):
    for query in ("page=-1", "page=" + "9" * 30, "page=abc"):
        response = client.get(f"/issues/?{query}")
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()
    for query in ("q=" + "x" * 10_000, "year=-1", "company=no-such-company"):
        response = client.get(f"/search/?{query}")
        assert response.status_code == 400
        assert 'role="search"' in response.content.decode() or "<form" in response.content.decode()


@pytest.mark.django_db
def test_odd_addresses_are_refused_with_a_4xx_never_a_500(client, public_urls):
    for path in ODD_PATHS:
        response = client.get(path)
        assert 400 <= response.status_code < 500, f"{path[:80]} answered {response.status_code}"
        _assert_handled(response, path[:80])


@pytest.mark.django_db
@pytest.mark.parametrize("enforce_csrf_checks", [True, False], ids=["no-csrf-token", "csrf-checks-off"])
def test_posts_to_public_urls_are_refused(public_urls, enforce_csrf_checks):
    """A form post to a reader page is refused: by CSRF protection, and by the view itself."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    for url in public_urls:
        for method, data in (("post", {"q": "x" * 10_000, "page": "-1"}), ("put", "garbage"), ("delete", None)):
            response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
            assert response.status_code in (403, 405), f"{method.upper()} {url} answered {response.status_code}"


FORGED_HOSTS = ["evil.example", "testserver.evil.example", "evil.example:80", "testserver:80@evil.example", "[::1"]


@pytest.mark.django_db
def test_a_forged_host_is_a_400_on_every_kind_of_url(public_urls, settings, caplog):
    """Public pages, a 404 path, the admin, a static file and the PDF: a forged Host is refused.

    Checked first, before the page cache and WhiteNoise look at the request, and answered
    with the site's own 400 page, which must not itself need the host.
    """
    settings.WHITENOISE_USE_FINDERS = True  # so that a static file is really served to a good host
    client = Client(raise_request_exception=False)
    issue = public_urls[0]
    urls = [*public_urls, "/no-such-page/", "/admin/", "/admin/login/", "/static/css/site.css"]
    assert client.get("/static/css/site.css").status_code == 200
    assert client.get(issue).status_code == 200  # and now cached, for the good host
    for host in FORGED_HOSTS:
        for url in urls:
            response = client.get(url, headers={"host": host})
            assert response.status_code == 400, f"{host} {url} answered {response.status_code}"
            body = response.content.decode()
            assert "Engineering @ Scale" in body and host.split(":")[0] not in body, f"{host} {url}"
        response = client.post("/admin/login/", {"username": "x", "password": "y"}, headers={"host": host})
        assert response.status_code == 400
    assert not [record for record in caplog.records if record.levelname == "ERROR" and record.name == "django.request"]


@pytest.mark.django_db
def test_the_run_retry_never_redirects_off_the_site(client):
    """The retry button's ``next`` is followed only when it is a path on this site."""
    from django.urls import reverse

    from digest.models import PublicationRun
    from tests.factories import issue_with_stories, user_in_role

    client.force_login(user_in_role("Publisher"))
    run = PublicationRun.objects.create(issue=issue_with_stories(published=True), state="failed")
    url = reverse("admin:digest_publicationrun_retry", args=[run.pk])
    run_page = reverse("admin:digest_publicationrun_change", args=[run.pk])
    for external in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ):
        response = client.post(url, {"next": external})
        assert response.status_code == 302 and response["Location"] == run_page, external
    report = reverse("admin:digest_publicationrun_report")
    assert client.post(url, {"next": report})["Location"] == report
