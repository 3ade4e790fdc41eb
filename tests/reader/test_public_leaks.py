"""Unpublished work never reaches the public: a crawl of the whole reader site, its JSON API and
JSON Feeds as an anonymous reader (or machine).

Every issue that is not published (draft, in review, approved, scheduled, withdrawn) carries
a marker in every text a reader could see: its title and texts, its stories, their
sources, and companies, themes and tags that only it names. The crawl starts at the home
page, follows every same-origin link it finds, and also asks directly for the addresses
a curious reader would guess. The marker must appear nowhere, and counts must not include
unpublished stories.
"""

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.utils import timezone
from taggit.models import Tag

from digest.models import IssueState, Section
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, SourceFactory, ThemeFactory
from tests.reader_pages import build_reader_pages

MARKER = "zqleakmarker"
UNPUBLISHED_STATES = [
    IssueState.DRAFT,
    IssueState.IN_REVIEW,
    IssueState.APPROVED,
    IssueState.SCHEDULED,
    IssueState.WITHDRAWN,
]
# Pages echo what the reader typed (a search, a missing address), so slugs and searches use
# words of their own, planted beside the marker.
SEARCH_WORD = "quokkafind"
HIDDEN_SLUG = "hidden-"  # every unpublished issue, story, company, theme and tag has a slug starting so
MAX_PAGES = 400  # the crawl is bounded: the site above has far fewer pages


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def _links_in(response, base):
    content_type = response.get("Content-Type", "")
    text = response.content.decode("utf-8", "replace")
    if "html" in content_type:
        parser = _Links()
        parser.feed(text)
        return [urljoin(base, link) for link in parser.links]
    # Feeds, the sitemap, robots.txt and the API's JSON name pages in text, XML and JSON.
    return re.findall(r"https?://testserver/[^\s<\"']*", text)


def _same_origin_path(url):
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    if parts.path.startswith(("/admin/", "/static/", "/preview/")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _plant_unpublished_issues():
    """Make one issue in each unpublished state; return the slugs of everything it names."""
    public_company = CompanyFactory(name="Published Co", slug="published-co")
    slugs = {"issues": [], "companies": [], "themes": [], "tags": [], "stories": []}
    for index, state in enumerate(UNPUBLISHED_STATES):
        issue = IssueFactory(
            number=500 + index,
            state=state,
            slug=f"hidden-{state}",
            title=f"{MARKER} issue {state}",
            week_in_review=f"{MARKER} week in review {SEARCH_WORD}",
            patterns=f"{MARKER} patterns {SEARCH_WORD}",
            week_start=datetime.date(2030, 1, 5) + datetime.timedelta(weeks=index),
            publish_at=timezone.now() + datetime.timedelta(days=3) if state == IssueState.SCHEDULED else None,
            published_at=timezone.now() if state == IssueState.WITHDRAWN else None,
        )
        company = CompanyFactory(name=f"{MARKER} company {state}", slug=f"hidden-company-{state}",
                                 description=f"{MARKER} description")  # fmt: skip
        theme = ThemeFactory(name=f"{MARKER} theme {state}", slug=f"hidden-theme-{state}")
        # A story that also names a published company: its count and page must not change.
        story = PlacementFactory(
            issue=issue,
            section=Section.TOP_STORIES,
            story__title=f"{MARKER} story {state} {SEARCH_WORD}",
            story__slug=f"hidden-story-{state}",
            story__summary=f"{MARKER} summary durable execution {SEARCH_WORD}",
            story__companies=[company, public_company],
            story__themes=[theme],
            story__sources=[],
        ).story
        SourceFactory(story=story, title=f"{MARKER} source", publisher=f"{MARKER} publisher",
                      url=f"https://example.com/{MARKER}")  # fmt: skip
        story.tags.add(Tag.objects.create(name=f"{MARKER} tag {state}", slug=f"hidden-tag-{state}"))
        slugs["issues"].append(issue.slug)
        slugs["companies"].append(company.slug)
        slugs["themes"].append(theme.slug)
        slugs["tags"].append(f"hidden-tag-{state}")
        slugs["stories"].append(story.slug)
    # The published company is public through one published story only.
    PlacementFactory(
        issue=IssueFactory(published=True, number=600, week_start=datetime.date(2019, 6, 1)),
        story__companies=[public_company],
    )
    return slugs


def _guessed_paths(slugs):
    paths = ["/", "/issues/", "/companies/", "/feed/", "/feed/atom/", "/sitemap.xml", "/robots.txt",
             f"/search/?q={SEARCH_WORD}", "/search/?q=durable+execution", "/companies/published-co/",
             "/companies/published-co/feed/", "/search/?company=published-co"]  # fmt: skip
    for slug in slugs["issues"]:
        paths += [f"/issues/{slug}/", f"/issues/{slug}.pdf"]
    for slug in slugs["companies"]:
        paths += [f"/companies/{slug}/", f"/companies/{slug}/feed/", f"/companies/{slug}/feed/atom/",
                  f"/search/?company={slug}"]  # fmt: skip
    for slug in slugs["themes"]:
        paths += [f"/themes/{slug}/", f"/themes/{slug}/feed/", f"/themes/{slug}/feed/atom/", f"/search/?theme={slug}"]
    paths += [f"/tags/{slug}/" for slug in slugs["tags"]]
    paths += ["/search/?year=2030", "/issues/?page=2"]
    # The JSON API and JSON Feeds: the same questions, asked by a machine.
    paths += ["/api/v1/issues/", "/api/v1/stories/", "/api/v1/companies/", "/api/v1/themes/", "/api/v1/tags/",
              f"/api/v1/search/?q={SEARCH_WORD}", "/api/v1/search/?q=durable+execution", "/feed.json",
              "/api/v1/stories/?since=2030-01-01", "/api/v1/companies/published-co/",
              "/api/v1/stories/?company=published-co", "/companies/published-co/feed.json"]  # fmt: skip
    for slug in slugs["issues"]:
        paths.append(f"/api/v1/issues/{slug}/")
    for kind, parameter in (("companies", "company"), ("themes", "theme"), ("tags", "tag")):
        for slug in slugs[kind]:
            paths += [f"/api/v1/{kind}/{slug}/", f"/api/v1/stories/?{parameter}={slug}"]
    for kind in ("companies", "themes"):
        paths += [f"/{kind}/{slug}/feed.json" for slug in slugs[kind]]
    return paths


@pytest.mark.django_db
def test_an_anonymous_crawl_of_the_reader_site_never_meets_unpublished_work(client):
    build_reader_pages()
    slugs = _plant_unpublished_issues()

    queue, seen, statuses = ["/", *_guessed_paths(slugs)], set(), {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        statuses[path] = response.status_code
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert MARKER.encode() not in body.lower(), f"{path} shows unpublished work"
        if HIDDEN_SLUG not in path:  # a page may echo its own address, but must not link to a hidden one
            assert HIDDEN_SLUG.encode() not in body, f"{path} links to unpublished work"
        for header, value in response.items():
            assert MARKER not in value.lower(), f"{path}: header {header} names unpublished work"
        if response.status_code == 200 and not response.streaming:
            queue += [p for p in map(_same_origin_path, _links_in(response, "http://testserver" + path)) if p]

    assert len(seen) < MAX_PAGES, "the crawl did not finish: a link loop?"
    crawled = {path for path, status in statuses.items() if status == 200}
    # The crawl reached every kind of public page, so it did look where a leak would show.
    for prefix in ("/issues/2026-04-18/", "/companies/", "/themes/", "/tags/", "/feed/", "/sitemap.xml",
                   "/api/v1/issues/2026-04-18/", "/api/v1/companies/", "/api/v1/themes/", "/api/v1/tags/",
                   "/feed.json"):  # fmt: skip
        assert any(path.startswith(prefix) for path in crawled), f"the crawl never reached {prefix}"
    assert len(crawled) > 20

    for slug in slugs["issues"]:
        expected = 410 if slug.endswith(IssueState.WITHDRAWN) else 404
        assert statuses[f"/issues/{slug}/"] == expected
        assert statuses[f"/issues/{slug}.pdf"] == expected
    for kind in ("companies", "themes", "tags"):
        for slug in slugs[kind]:
            assert statuses[f"/{kind}/{slug}/"] == 404
    for kind, parameter in (("companies", "company"), ("themes", "theme")):
        for slug in slugs[kind]:
            assert statuses[f"/search/?{parameter}={slug}"] == 400, "an unpublished filter must not be offered"
    for slug in slugs["issues"]:
        assert statuses[f"/api/v1/issues/{slug}/"] == (410 if slug.endswith(IssueState.WITHDRAWN) else 404)
    for kind, parameter in (("companies", "company"), ("themes", "theme"), ("tags", "tag")):
        for slug in slugs[kind]:
            assert statuses[f"/api/v1/{kind}/{slug}/"] == 404
            assert statuses[f"/api/v1/stories/?{parameter}={slug}"] == 404
    for kind in ("companies", "themes"):
        for slug in slugs[kind]:
            assert statuses[f"/{kind}/{slug}/feed.json"] == 404

    # Counts: the published company has one published story, whatever the drafts name.
    company_page = client.get("/companies/published-co/").content.decode()
    assert re.search(r"\b1 story\b", company_page), "the company's story count includes unpublished stories"
    index = client.get("/companies/").content.decode()
    row = re.search(r"Published Co</a>(.{0,200})", index, re.S)
    assert row and re.search(r"\b1\b", row.group(1)), "the company index counts unpublished stories"
    assert client.get("/api/v1/companies/published-co/").json()["story_count"] == 1, "the API counts them"
