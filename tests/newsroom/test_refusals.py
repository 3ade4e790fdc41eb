"""Refusals explain themselves: a 403 in the admin's look says what the role may not do; read-only pages say why."""

import pytest
from django.urls import reverse

from stories.models import Story
from tests.factories import UserFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db


def as_role(client, role):
    client.force_login(user_in_role(role))
    return client


def refusal(response):
    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Not allowed | Engineering @ Scale CMS</title>" in html
    assert 'id="user-tools"' in html and "Back to the newsroom" in html  # the admin's own page
    return html


def test_a_bare_refusal_says_what_the_role_may_not_do_and_who_may(client):
    html = refusal(as_role(client, "Contributor").get(reverse("admin:digest_issue_add")))
    assert '<p class="refusal-reason">Contributors may not add issues.</p>' in html
    assert "Editors and Publishers may. Ask one of them if it needs doing." in html


def test_deleting_what_only_publishers_delete(client):
    issue = issue_with_stories()
    html = refusal(as_role(client, "Editor").get(reverse("admin:digest_issue_delete", args=[issue.pk])))
    assert "Editors may not delete issues." in html and "Publishers may." in html
    story = issue.placements.first().story
    client.force_login(user_in_role("Contributor"))
    html = refusal(client.post(reverse("admin:stories_story_delete", args=[story.pk]), {"post": "yes"}))
    assert "Contributors may not delete stories." in html and "Editors and Publishers may." in html
    assert Story.objects.filter(pk=story.pk).exists()


def test_what_no_role_may_do_is_for_an_administrator(client):
    html = refusal(as_role(client, "Publisher").get(reverse("admin:auth_user_changelist")))
    assert "Publishers may not see the list of users." in html and "Only an administrator may." in html


def test_a_refused_change_to_a_published_issue_says_corrections_go_through_a_publisher(client):
    issue = issue_with_stories(published=True)
    client.force_login(user_in_role("Editor"))
    url = reverse("admin:digest_issue_change", args=[issue.pk])
    html = refusal(client.post(url, {"title": "Changed after publication"}))
    assert f"Issue #{issue.number} is published: corrections go through a publisher." in html
    issue.refresh_from_db()
    assert issue.title != "Changed after publication"


def test_a_refusal_with_its_own_message_shows_it(client):
    client.force_login(UserFactory(username="auditor", is_staff=True))
    html = refusal(client.post("/admin/stories/story/markdown-preview/", "x", content_type="text/plain"))
    assert "Your role may not write stories, so it has no use for their preview." in html


def test_refusals_outside_the_admin_are_left_as_they_were(client, rf):
    from django.core.exceptions import PermissionDenied

    from newsroom.refusals import permission_denied

    response = permission_denied(rf.get("/issues/"), PermissionDenied())
    assert response.status_code == 403 and b"Not allowed" not in response.content


def test_a_published_issue_and_its_story_say_why_they_are_read_only(client):
    issue = issue_with_stories(published=True)
    story = issue.placements.first().story
    client.force_login(user_in_role("Editor"))
    html = client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()
    assert (
        '<p class="read-only-reason" role="note"><strong>Read only.</strong> '
        f"Issue #{issue.number} is published: corrections go through a publisher.</p>"
    ) in html
    html = client.get(reverse("admin:stories_story_change", args=[story.pk])).content.decode()
    assert (
        f"<strong>Read only.</strong> This story is in issue #{issue.number}, which is published: "
        "corrections go through a publisher."
    ) in html


def test_a_contributor_is_told_editors_assemble_issues(client):
    issue = issue_with_stories()
    html = as_role(client, "Contributor").get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()
    assert "<strong>Read only.</strong> Editors assemble issues: your role may read them, not change them." in html


def test_a_page_that_may_be_changed_shows_no_reason(client):
    issue = issue_with_stories(published=True)
    client.force_login(user_in_role("Publisher"))
    assert "read-only-reason" not in client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()
    client.force_login(user_in_role("Editor", "ed"))
    draft = issue_with_stories()
    assert "read-only-reason" not in client.get(reverse("admin:digest_issue_change", args=[draft.pk])).content.decode()
