"""The JSON API as a client sees it: published content only, reading order, cursors, validators,
the page cache and its purges, CORS, the rate limit, errors."""

import base64
import datetime
import json

import pytest
from django.utils import timezone

from digest import workflow
from digest.models import Issue, IssueState, Placement
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, ThemeFactory, user_in_role
from tests.reader_pages import build_reader_pages

pytestmark = pytest.mark.django_db


def get_json(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.fixture
def site():
    """Two published issues sharing a company, theme and tag."""
    netflix = CompanyFactory(name="Netflix", slug="netflix")
    confluent = CompanyFactory(name="Confluent", slug="confluent", parent=netflix)
    theme = ThemeFactory(name="Data planes", slug="data-planes")
    first = IssueFactory(published=True, title="First issue", week_start=datetime.date(2026, 1, 3))
    second = IssueFactory(published=True, title="Second issue", week_start=datetime.date(2026, 1, 10))
    old_story = PlacementFactory(issue=first, story__title="Old story", story__companies=[netflix]).story
    story = PlacementFactory(
        issue=second, story__title="Lightbulb routing", story__companies=[netflix, confluent], story__themes=[theme]
    ).story
    story.tags.add("envoy")
    old_story.tags.add("envoy")
    return {"first": first, "second": second, "story": story}


def test_an_issue_has_its_texts_sections_and_stories_in_reading_order_and_its_pdf(client):
    build_reader_pages()
    issue = Issue.objects.get(slug="2026-04-18")
    data = get_json(client, "/api/v1/issues/2026-04-18/")
    assert data["title"] == issue.title and data["number"] == issue.number
    assert data["week_in_review"] == {"html": issue.week_in_review_html, "markdown": issue.week_in_review}
    assert data["patterns"]["markdown"] == issue.patterns
    assert [section["name"] for section in data["sections"]] == ["Top Stories", "Developing Threads"]
    placements = Placement.objects.filter(issue=issue).order_by("section", "position", "id").select_related("story")
    sent = [story["slug"] for section in data["sections"] for story in section["stories"]]
    assert sent == [placement.story.slug for placement in placements]
    first = data["sections"][0]["stories"][0]
    story = placements[0].story
    assert first["summary"] == {"html": story.summary_html, "markdown": story.summary}
    assert sorted(company["name"] for company in first["companies"]) == sorted(
        story.companies.values_list("name", flat=True)
    )
    assert {tag["name"] for tag in first["tags"]} == set(story.tags.names())
    assert [source["title"] for source in first["sources"]] == list(story.sources.values_list("title", flat=True))
    assert first["url"] == f"http://testserver/issues/2026-04-18/#{story.slug}"
    assert data["pdf"]["url"] == "http://testserver/issues/2026-04-18.pdf"
    assert data["pdf"]["size"] == issue.pdf_size and data["pdf"]["content_hash"] == issue.pdf_content_hash


def test_a_withdrawn_issue_is_gone_and_an_unknown_one_not_found(client, site):
    publisher = user_in_role("Publisher")
    workflow.withdraw(issue=site["second"], by=publisher, comment="Legal")
    assert get_json(client, f"/api/v1/issues/{site['second'].slug}/", 410) == {"detail": "This issue was withdrawn."}
    assert get_json(client, "/api/v1/issues/no-such-issue/", 404)["detail"]
    assert site["second"].slug not in str(get_json(client, "/api/v1/issues/"))


def test_lists_are_cursor_paginated_in_a_stable_order(client):
    for week in range(25):
        IssueFactory(published=True, week_start=datetime.date(2020, 1, 4) + datetime.timedelta(weeks=week))
    first = get_json(client, "/api/v1/issues/")
    assert len(first["items"]) == 20
    starts = [item["week_start"] for item in first["items"]]
    assert starts == sorted(starts, reverse=True)
    # An issue published between two pages neither repeats nor pushes an item onto the next page.
    IssueFactory(published=True, week_start=datetime.date(2021, 6, 5))
    second = get_json(client, first["next"])
    assert len(second["items"]) == 5 and second["next"] is None
    slugs = [item["slug"] for item in first["items"] + second["items"]]
    assert len(set(slugs)) == 25
    assert "2021-06-05" not in slugs


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyIyMDIwIiwgMV0", "x" * 600, "WyJub3QgYSBkYXRlIiwxXQ"])
def test_a_forged_cursor_is_a_clear_400(client, site, cursor):
    data = get_json(client, f"/api/v1/issues/?cursor={cursor}", 400)
    assert "cursor" in data["detail"]


@pytest.mark.parametrize("path", ["/api/v1/issues/", "/api/v1/companies/", "/api/v1/themes/", "/api/v1/tags/"])
@pytest.mark.parametrize("value", ["\ud800", "\u0000"], ids=["lone surrogate", "NUL"])
def test_a_cursor_holding_what_no_name_holds_is_a_clear_400(client, site, path, value):
    """A reviewer's find: a cursor of ["\\ud800"] was a 500 on every list, ["\\u0000"] on the named ones."""
    cursor = base64.urlsafe_b64encode(json.dumps([value]).encode()).decode().rstrip("=")
    assert "cursor" in get_json(client, f"{path}?cursor={cursor}", 400)["detail"]


def test_stories_filter_by_company_theme_tag_and_dates(client, site):
    titles = lambda url: [item["title"] for item in get_json(client, url)["items"]]  # noqa: E731
    assert titles("/api/v1/stories/") == ["Lightbulb routing", "Old story"]
    assert titles("/api/v1/stories/?company=confluent") == ["Lightbulb routing"]
    assert titles("/api/v1/stories/?company=netflix") == ["Lightbulb routing", "Old story"]
    assert titles("/api/v1/stories/?theme=data-planes") == ["Lightbulb routing"]
    assert titles("/api/v1/stories/?tag=envoy") == ["Lightbulb routing", "Old story"]
    assert titles("/api/v1/stories/?since=2026-01-05") == ["Lightbulb routing"]
    assert titles("/api/v1/stories/?until=2026-01-05") == ["Old story"]
    assert get_json(client, "/api/v1/stories/?company=nobody", 404)["detail"]
    assert "since" in get_json(client, "/api/v1/stories/?since=yesterday", 400)["detail"]


def test_stories_pages_follow_on_without_repeats(client):
    issue = IssueFactory(published=True)
    for position in range(45):
        PlacementFactory(issue=issue, position=position % 7)  # equal positions: the id settles the order
    seen, url = [], "/api/v1/stories/"
    while url:
        page = get_json(client, url)
        seen += [item["slug"] for item in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 45


def test_companies_themes_and_tags(client, site):
    companies = get_json(client, "/api/v1/companies/")["items"]
    assert [company["slug"] for company in companies] == ["confluent", "netflix"]
    confluent = get_json(client, companies[0]["api_url"])
    assert confluent["parent"]["slug"] == "netflix" and confluent["story_count"] == 1
    assert get_json(client, confluent["stories_url"])["items"][0]["title"] == "Lightbulb routing"
    assert [theme["slug"] for theme in get_json(client, "/api/v1/themes/")["items"]] == ["data-planes"]
    assert get_json(client, "/api/v1/themes/data-planes/")["story_count"] == 1
    assert get_json(client, "/api/v1/tags/envoy/")["story_count"] == 2
    assert get_json(client, "/api/v1/tags/nothing/", 404)["detail"]


def test_search(client, site):
    results = get_json(client, "/api/v1/search/?q=lightbulb")["items"]
    assert [item["title"] for item in results] == ["Lightbulb routing"]
    assert get_json(client, "/api/v1/search/?q=", 400)["detail"]
    assert get_json(client, "/api/v1/search/?q=" + "a" * 201, 400)["detail"]
    assert get_json(client, "/api/v1/search/?q=%00", 400)["detail"]


@pytest.mark.parametrize("offset", [2**63 - 8, 10**30, 20 * 10**18])
def test_a_search_cursor_past_any_archive_is_a_clear_400(client, site, offset):
    from api.cursors import encode

    assert "cursor" in get_json(client, f"/api/v1/search/?q=lightbulb&cursor={encode(offset)}", 400)["detail"]


def test_user_text_is_escaped_in_the_json(client):
    PlacementFactory(issue=IssueFactory(published=True), story__title="</script><script>alert(1)</script>")
    body = client.get("/api/v1/stories/").content
    assert b"<script>" not in body and b"\\u003Cscript\\u003E" in body
    assert client.get("/api/v1/stories/").json()["items"][0]["title"] == "</script><script>alert(1)</script>"


def test_responses_carry_validators_and_answer_304(client, site):
    url = f"/api/v1/issues/{site['second'].slug}/"
    first = client.get(url)
    assert first["ETag"] and first["Last-Modified"] and "no-cache" in first["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304
    search = client.get("/api/v1/search/?q=routing")
    assert client.get("/api/v1/search/?q=routing", headers={"If-None-Match": search["ETag"]}).status_code == 304


def test_warm_responses_cost_no_query_and_a_correction_purges_them(
    client, site, django_assert_num_queries, django_capture_on_commit_callbacks
):
    urls = [f"/api/v1/issues/{site['second'].slug}/", "/api/v1/issues/", "/api/v1/stories/?company=netflix",
            "/api/v1/companies/netflix/", "/api/v1/tags/", "/feed.json", "/companies/netflix/feed.json"]  # fmt: skip
    for url in urls:
        client.get(url)
    for url in urls:
        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200
    assert "xkey" in client.get(urls[0])
    story = site["story"]
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "Lightbulb routing, corrected"
        story.save()
    for url in (urls[0], urls[2], "/feed.json", "/companies/netflix/feed.json"):
        assert "Lightbulb routing, corrected" in client.get(url).content.decode(), url


def test_a_publication_reaches_the_cached_lists(client, site, django_capture_on_commit_callbacks):
    client.get("/api/v1/issues/")
    third = IssueFactory(title="Third issue", week_start=datetime.date(2026, 2, 7))
    PlacementFactory(issue=third, story__title="Brand new story")
    with django_capture_on_commit_callbacks(execute=True):
        third.state, third.published_at = IssueState.PUBLISHED, timezone.now()
        third.save()
    assert get_json(client, "/api/v1/issues/")["items"][0]["title"] == "Third issue"
    assert get_json(client, "/api/v1/stories/")["items"][0]["title"] == "Brand new story"


def test_any_site_may_read_the_api(client, site):
    response = client.get("/api/v1/issues/", headers={"Origin": "https://example.org"})
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert client.get("/api/v1/issues/")["Access-Control-Allow-Origin"] == "*"  # from the cache too
    preflight = client.options(
        "/api/v1/issues/",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "if-none-match"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight["Access-Control-Allow-Headers"]
    assert client.post("/api/v1/issues/").status_code == 405  # read-only
    head = client.head(f"/api/v1/issues/{site['second'].slug}/")
    assert head.status_code == 200 and head["ETag"] and head.content == b""
    assert "Access-Control-Allow-Origin" not in client.get("/issues/")  # the HTML site is not opened


def test_anonymous_clients_are_rate_limited_with_a_clear_429(client, site, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    for _ in range(3):
        assert client.get("/api/v1/issues/").status_code == 200
    refused = client.get("/api/v1/issues/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert "try again in" in refused.json()["detail"]
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert client.get("/api/v1/issues/", REMOTE_ADDR="192.0.2.7").status_code == 200  # another address
    assert client.get("/issues/").status_code == 200  # the reader's pages are not counted
