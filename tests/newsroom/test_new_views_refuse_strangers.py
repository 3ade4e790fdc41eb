"""Every admin view this round added refuses whoever may not use it, and no input makes it fail.

An attacker's walk: anonymous, then a contributor, posting the largest or oddest input each
view accepts. Each answer is a refusal or a clear error (never a 5xx), and nothing changes.
"""

import pytest
from django.test import Client
from django.urls import reverse

from digest import previews
from digest.models import IssueEvent, IssueState
from tests.factories import StoryFactory, UserFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db

HUGE = "#" * 2_000_000
WITHDRAW = {"confirm": "withdraw"}


@pytest.fixture
def targets():
    issue = issue_with_stories(published=True)
    link = previews.make_share_link(issue=issue, by=user_in_role("Publisher", "pat"))
    story = StoryFactory()
    return issue, link, story, [
        ("post", reverse("admin:digest_issue_revoke_link", args=[issue.pk, link.pk]), {"confirm": "yes"}),
        ("post", reverse("admin:digest_issue_revoke_links", args=[issue.pk]), {"confirm": "yes"}),
        ("post", reverse("admin:digest_issue_transition", args=[issue.pk, "withdraw"]), WITHDRAW | {"comment": "x"}),
        ("post", reverse("admin:digest_issue_change", args=[issue.pk]), WITHDRAW | {"_transition": "withdraw"}),
        ("post", reverse("admin:digest_issue_presence", args=[issue.pk]), {}),
        ("post", reverse("admin:stories_story_presence", args=[story.pk]), {"leaving": "1"}),
        ("post", reverse("admin:stories_story_markdown_preview"), HUGE),
        ("get", reverse("admin:digest_issue_pdf_preview", args=[issue.pk]), {}),
        ("get", reverse("admin:index"), {}),
        ("get", reverse("admin:stories_theme_history", args=[StoryFactory().themes.create(name="T", slug="t").pk]), {}),
    ]  # fmt: skip


def send(client, method, url, data):
    if isinstance(data, str):
        return client.post(url, data, content_type="text/plain")
    return getattr(client, method)(url, data)


@pytest.mark.parametrize("who", ["anonymous", "staff without a role", "Contributor"])
def test_strangers_are_refused_and_nothing_changes(targets, who):
    issue, link, _story, requests = targets
    client = Client()
    if who == "Contributor":
        client.force_login(user_in_role("Contributor"))
    elif who == "staff without a role":
        client.force_login(UserFactory(username="bare", is_staff=True))
    events = IssueEvent.objects.count()
    for method, url, data in requests:
        response = send(client, method, url, data)
        assert response.status_code < 500, (who, url, response.status_code)
        if who == "anonymous":
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (who, url)
    issue.refresh_from_db()
    link.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED and link.revoked_at is None
    assert IssueEvent.objects.count() == events
