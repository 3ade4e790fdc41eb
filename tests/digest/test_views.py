import pytest
from django.core.management import call_command

from companies.models import Company
from digest.models import Issue, IssueState
from stories.models import Story
from tests.factories import IssueFactory, PlacementFactory, issue_with_stories

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_issue():
    call_command("load_demo", "--no-admin", stdout=None)
    return Issue.objects.get(slug="2026-04-18")


def test_home_shows_the_whole_demo_issue(client, demo_issue):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert demo_issue.title in html
    for heading in ("Week in Review", "Top Stories", "Developing Threads", "Patterns Across Companies"):
        assert f">{heading}</h2>" in html
    for story in Story.objects.all():
        assert story.title.replace("&", "&amp;") in html
        for company in story.companies.all():
            assert f'href="/companies/{company.slug}/">{company.name}</a>' in html
    assert "The dominant engineering theme this week" in html
    assert "A defining pattern this week" in html
    assert html.index("Offline Generation") < html.index("Standardizing Agent") < html.index("A defining pattern")


def test_issue_page_is_at_its_slug_and_names_its_week(client, demo_issue):
    html = client.get("/issues/2026-04-18/").content.decode()
    assert "Issue 1" in html
    assert "18 April 2026" in html and "1 May 2026" in html


def test_unpublished_issues_are_not_found(client):
    for state in (
        IssueState.DRAFT,
        IssueState.IN_REVIEW,
        IssueState.APPROVED,
        IssueState.SCHEDULED,
        IssueState.WITHDRAWN,
    ):
        issue = IssueFactory(state=state, title=f"Secret {state}")
        response = client.get(issue.get_absolute_url())
        assert response.status_code == 404
        assert "Secret" not in response.content.decode()
    assert "Secret" not in client.get("/").content.decode()


def test_home_without_a_published_issue_says_so(client):
    IssueFactory(title="Draft only")
    response = client.get("/")
    assert response.status_code == 200
    assert "has not been published" in response.content.decode()


def test_latest_published_issue_is_the_home_page(client):
    IssueFactory(published=True, title="Older issue")
    IssueFactory(published=True, title="Newer issue")
    IssueFactory(title="Newest draft")
    html = client.get("/").content.decode()
    assert "Newer issue" in html and "Older issue" not in html and "Newest draft" not in html


def test_issue_page_queries_do_not_grow_with_stories(client, django_assert_num_queries):
    small = issue_with_stories(top=2, threads=1, published=True)
    large = issue_with_stories(top=25, threads=15, published=True)
    with django_assert_num_queries(7):
        assert client.get(small.get_absolute_url()).status_code == 200
    with django_assert_num_queries(7):
        assert client.get(large.get_absolute_url()).status_code == 200


def test_summaries_are_sanitised_on_the_page(client):
    story = PlacementFactory(issue=IssueFactory(published=True)).story
    story.summary = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    story.save()
    html = client.get(story.placement.issue.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert 'href="javascript:' not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_company_page_lists_only_published_stories(client):
    company = Company.objects.create(name="Netflix", slug="netflix")
    published = PlacementFactory(issue=IssueFactory(published=True), story__companies=[company]).story
    draft = PlacementFactory(issue=IssueFactory(), story__companies=[company]).story
    html = client.get("/companies/netflix/").content.decode()
    assert published.title in html and draft.title not in html


def test_company_with_only_unpublished_stories_is_not_found(client):
    company = Company.objects.create(name="Hidden", slug="hidden")
    PlacementFactory(issue=IssueFactory(), story__companies=[company])
    assert client.get("/companies/hidden/").status_code == 404
