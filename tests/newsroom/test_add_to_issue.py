""" "Save and add to issue" on a story's page: saved first, then placed through digest.assembly."""

import pytest
from django.urls import reverse

from digest.models import IssueState
from stories.models import Story
from tests.admin_forms import change_form_data
from tests.factories import CompanyFactory, IssueFactory, StoryFactory, user_in_role
from tests.newsroom.clients import change_url, logged_in

pytestmark = pytest.mark.django_db


def new_story_data(client, **changes):
    company = CompanyFactory()
    page = client.get(reverse("admin:stories_story_add"))
    source = {
        "sources-TOTAL_FORMS": "1",
        "sources-0-position": "0",
        "sources-0-title": "Source",
        "sources-0-url": "https://example.com/a",
    }
    return page, change_form_data(
        page, title="Written and placed", slug="written-and-placed", summary="Text.",
        companies=[str(company.pk)], themes=None, **source, **changes,
    )  # fmt: skip


def test_an_editor_saves_a_new_story_into_the_newest_draft_issue():
    client = logged_in(user_in_role("Editor"))
    IssueFactory(number=7)
    newest = IssueFactory(number=8)
    IssueFactory(number=9, state=IssueState.IN_REVIEW)
    page, data = new_story_data(client)
    assert [issue.number for issue in page.context["issues_to_add_to"]] == [8, 7]  # drafts only, newest first
    response = client.post(
        reverse("admin:stories_story_add"), {**data, "_add_to_issue": "", "_issue_to_add_to": str(newest.pk)}
    )
    assert response.status_code == 302 and response.url == change_url(newest)
    assert Story.objects.get(slug="written-and-placed").placement.issue == newest


def test_a_refused_placement_keeps_the_saved_story_and_says_why():
    client = logged_in(user_in_role("Editor"))
    published = IssueFactory(published=True)
    _, data = new_story_data(client)
    response = client.post(
        reverse("admin:stories_story_add"),
        {**data, "_add_to_issue": "", "_issue_to_add_to": str(published.pk)},
        follow=True,
    )
    story = Story.objects.get(slug="written-and-placed")
    assert not hasattr(story, "placement") or story.placement is None
    assert "was saved, but not added to issue" in response.content.decode()


def test_contributors_and_placed_stories_are_not_offered_it():
    IssueFactory()
    contributor = logged_in(user_in_role("Contributor"))
    assert contributor.get(reverse("admin:stories_story_add")).context["issues_to_add_to"] == []
    editor = logged_in(user_in_role("Editor"))
    placed = StoryFactory()
    from digest.assembly import add_story_to_issue

    add_story_to_issue(issue=IssueFactory(), story=placed, by=user_in_role("Editor", "eve"))
    assert editor.get(change_url(placed)).context["issues_to_add_to"] == []
