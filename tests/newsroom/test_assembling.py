"""Assembling an issue: starting the next one, and its stories' rows on the issue page."""

import datetime

import pytest
from django.urls import reverse

from digest.models import Issue, Section
from tests.admin_forms import change_form_data
from tests.factories import (
    CompanyFactory,
    IssueFactory,
    PlacementFactory,
    SourceFactory,
    ThemeFactory,
    issue_with_stories,
    user_in_role,
)

pytestmark = pytest.mark.django_db


def start_next_href(html):
    marker = "Start next issue</a>"
    assert marker in html
    start = html.rindex('href="', 0, html.index(marker)) + len('href="')
    return html[start : html.index('"', start)].replace("&amp;", "&")


def test_start_next_issue_fills_number_week_slug_and_title_from_the_latest(admin_client):
    IssueFactory(
        number=41,
        week_start=datetime.date(2026, 4, 4),
        week_end=datetime.date(2026, 4, 17),
        title="Engineering @ Scale — Week of 2026-04-04 to 2026-04-17",
    )
    IssueFactory(
        number=42,
        week_start=datetime.date(2026, 4, 18),
        week_end=datetime.date(2026, 5, 1),
        slug="2026-04-18",
        title="Engineering @ Scale — Week of 2026-04-18 to 2026-05-01",
    )
    changelist = admin_client.get(reverse("admin:digest_issue_changelist")).content.decode()
    add_page = admin_client.get(start_next_href(changelist))

    form = add_page.context["adminform"].form
    assert {name: form[name].value() for name in ["number", "title", "slug", "week_start", "week_end"]} == {
        "number": 43,
        "title": "Engineering @ Scale — Week of 2026-05-02 to 2026-05-08",
        "slug": "2026-05-02",
        "week_start": datetime.date(2026, 5, 2),
        "week_end": datetime.date(2026, 5, 8),
    }

    # Saved as it stands, it is the next issue, a draft.
    data = {
        key: value
        for key, value in change_form_data(add_page).items()
        if not key.startswith("placements-") or key.endswith("_FORMS")
    }
    data["placements-TOTAL_FORMS"] = "0"
    response = admin_client.post(reverse("admin:digest_issue_add"), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    issue = Issue.objects.get(number=43)
    assert (issue.slug, issue.week_start, issue.week_end, issue.state) == (
        "2026-05-02",
        datetime.date(2026, 5, 2),
        datetime.date(2026, 5, 8),
        "draft",
    )


def test_start_next_issue_from_an_issue_page_spells_dates_as_the_title_did(admin_client):
    issue = IssueFactory(
        number=7,
        week_start=datetime.date(2026, 1, 3),
        week_end=datetime.date(2026, 1, 9),
        title="Week of 3 January 2026",
    )
    page = admin_client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()
    form = admin_client.get(start_next_href(page)).context["adminform"].form
    assert (form["number"].value(), form["title"].value()) == (8, "Week of 10 January 2026")


def test_start_next_issue_is_offered_only_to_those_who_may_add_issues(client):
    IssueFactory()
    client.force_login(user_in_role("Contributor"))
    page = client.get(reverse("admin:digest_issue_changelist"))
    assert page.status_code == 200
    assert "Start next issue" not in page.content.decode()


def story_row(html, title):
    """The text of the issue page's inline row holding the story ``title``."""
    start = html.rindex('<tr class="form-row', 0, html.index(f">{title}</option>"))
    return html[start : html.index("</tr>", start)]


def test_each_story_row_shows_its_companies_and_what_its_checklist_asks(admin_client):
    issue = IssueFactory()
    netflix, uber = CompanyFactory(name="Netflix"), CompanyFactory(name="Uber")
    PlacementFactory(
        issue=issue, story__title="Ready story", story__companies=[netflix, uber], story__themes=[ThemeFactory()]
    )
    PlacementFactory(issue=issue, story__title="Orphan story", story__companies=[], story__sources=[])
    unlinked = PlacementFactory(issue=issue, story__title="Unlinked story", story__companies=[uber]).story
    SourceFactory(story=unlinked, url="")

    html = admin_client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()

    ready = story_row(html, "Ready story")
    assert "Netflix, Uber" in ready and "✓ ready" in ready
    orphan = story_row(html, "Orphan story")
    assert "no company" in orphan and "no source" in orphan and "ready" not in orphan
    assert (
        reverse("admin:stories_story_change", args=[issue.placements.get(story__title="Orphan story").story_id])
        in orphan
    )
    assert "source without URL" in story_row(html, "Unlinked story")


def test_the_issue_page_costs_the_same_queries_with_more_stories(admin_client, django_assert_max_num_queries):
    issue = issue_with_stories(top=2, threads=1)
    url = reverse("admin:digest_issue_change", args=[issue.pk])
    with django_assert_max_num_queries(30) as small:
        assert admin_client.get(url).status_code == 200
    for position in range(10, 22):
        placement = PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, position=position)
        placement.story.companies.add(CompanyFactory())
        SourceFactory(story=placement.story, url="")
        placement.story.themes.add(ThemeFactory())
    with django_assert_max_num_queries(30) as large:
        assert admin_client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_rows_and_the_checklist_share_one_load_of_the_stories(admin_client, django_assert_max_num_queries):
    """The issue page loads its placements, and their stories' companies, themes and sources, once."""
    issue = issue_with_stories(top=3, threads=2)
    with django_assert_max_num_queries(30) as page:
        assert admin_client.get(reverse("admin:digest_issue_change", args=[issue.pk])).status_code == 200
    loads = [query["sql"] for query in page.captured_queries]
    for load in ('FROM "digest_placement"', 'FROM "stories_source"', 'JOIN "stories_story_companies"',
                 'JOIN "stories_story_themes"'):  # fmt: skip
        assert sum(load in sql for sql in loads) == 1, load
