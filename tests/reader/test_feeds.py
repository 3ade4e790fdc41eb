import feedparser
import pytest
from django.core.management import call_command
from django.utils import timezone

from digest.models import Issue, IssueState
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, ThemeFactory

pytestmark = pytest.mark.django_db


def parsed(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return response, feed


@pytest.fixture
def demo_issue():
    call_command("load_demo", "--no-admin", stdout=None)
    return Issue.objects.get(slug="2026-04-18")


@pytest.mark.parametrize(("url", "version"), [("/feed/", "rss20"), ("/feed/atom/", "atom10")])
def test_issue_feeds_carry_every_published_issue_in_full(client, demo_issue, url, version):
    IssueFactory(number=100, title="Draft issue")
    IssueFactory(number=101, title="Withdrawn issue", state=IssueState.WITHDRAWN, published_at=timezone.now())
    _, feed = parsed(client, url)
    assert feed.version == version
    assert feed.feed.title == "Engineering @ Scale"
    assert [entry.title for entry in feed.entries] == [demo_issue.title]
    entry = feed.entries[0]
    assert entry.link == f"http://testserver{demo_issue.get_absolute_url()}"
    content = entry.content[0].value if version == "atom10" else entry.description
    assert "The dominant engineering theme this week" in content
    assert "Offline Generation &amp; Deterministic AI Pipelines" in content
    assert "A defining pattern this week" in content
    assert entry.published_parsed[:3] == demo_issue.published_at.timetuple()[:3]


def test_feeds_are_advertised_in_page_heads(client, demo_issue):
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/rss+xml" title="Engineering @ Scale (RSS)" href="/feed/">' in html
    assert 'type="application/atom+xml" title="Engineering @ Scale (Atom)" href="/feed/atom/">' in html


@pytest.mark.parametrize("suffix", ["feed/", "feed/atom/"])
def test_company_feed_has_its_published_stories(client, suffix):
    company = CompanyFactory(name="Netflix <Streaming>", slug="netflix")
    shown = PlacementFactory(issue=IssueFactory(published=True), story__companies=[company]).story
    PlacementFactory(issue=IssueFactory(), story__title="Draft story", story__companies=[company])
    _, feed = parsed(client, f"/companies/netflix/{suffix}")
    assert feed.feed.title == "Netflix <Streaming> — Engineering @ Scale"
    assert [entry.title for entry in feed.entries] == [shown.title]
    entry = feed.entries[0]
    assert entry.link == f"http://testserver{shown.placement.issue.get_absolute_url()}#{shown.slug}"
    text = entry.content[0].value if suffix.endswith("atom/") else entry.description
    assert "<em>short</em>" in text
    assert shown.sources.get().url in text


def test_theme_feed_has_its_published_stories(client):
    theme = ThemeFactory(slug="durable-execution")
    older = PlacementFactory(issue=IssueFactory(published=True), story__themes=[theme]).story
    newer = PlacementFactory(issue=IssueFactory(published=True), story__themes=[theme]).story
    PlacementFactory(issue=IssueFactory(), story__title="Draft", story__themes=[theme])
    _, feed = parsed(client, "/themes/durable-execution/feed/")
    assert [entry.title for entry in feed.entries] == [newer.title, older.title]


def test_feeds_escape_editor_text(client):
    issue = IssueFactory(published=True, title="Tags <b>bold</b> & </title><script>alert(1)</script>")
    story = PlacementFactory(issue=issue).story
    story.summary = "<script>alert(2)</script>"
    story.save()
    response, feed = parsed(client, "/feed/atom/")
    assert b"<script>" not in response.content
    assert feed.entries[0].title == issue.title
    assert "<script>alert(2)" not in feed.entries[0].content[0].value


def test_feeds_of_unpublished_companies_and_themes_are_not_found(client):
    company = CompanyFactory(slug="secret")
    theme = ThemeFactory(slug="secret-theme")
    PlacementFactory(issue=IssueFactory(), story__companies=[company], story__themes=[theme])
    for url in ("/companies/secret/feed/", "/companies/secret/feed/atom/", "/themes/secret-theme/feed/"):
        assert client.get(url).status_code == 404


def test_issue_feed_queries_are_bounded(client, django_assert_num_queries):
    from django.core.cache import cache

    for count in (1, 6):
        for _ in range(count):
            issue = IssueFactory(published=True)
            PlacementFactory(issue=issue)
            PlacementFactory(issue=issue)
        cache.clear()
        with django_assert_num_queries(4):
            client.get("/feed/")
