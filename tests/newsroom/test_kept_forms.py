"""A save posted after the session expired keeps everything typed: log in again and it is all there."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from digest.models import IssueState
from newsroom import kept_forms
from newsroom.models import KeptForm
from stories.models import Story
from tests.admin_forms import change_form_data
from tests.factories import issue_with_stories, user_in_role
from tests.newsroom.clients import change_url

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def log_in_again(client, response, username):
    """On the login page ``response`` shows, log in as the form there would; follow to ``next``."""
    assert response.request["PATH_INFO"] == reverse("admin:login")
    next_url = parse_qs(response.request["QUERY_STRING"])["next"][0]
    return client.post(
        reverse("admin:login"), {"username": username, "password": PASSWORD, "next": next_url}, follow=True
    )


@pytest.fixture
def editor_client():
    client = Client()
    client.force_login(user_in_role("Editor", "edna"))
    return client


def test_a_save_after_the_session_expired_keeps_the_text_through_the_login(editor_client):
    issue = issue_with_stories(week_in_review="Before.")
    page = editor_client.get(change_url(issue))
    editor_client.logout()  # the session expired while the editor was typing

    sent = editor_client.post(
        change_url(issue), change_form_data(page, week_in_review="Typed while away."), follow=True
    )

    assert "Typed while away." not in sent.content.decode()  # the login page, asking to log in
    assert KeptForm.objects.count() == 1
    restored = log_in_again(editor_client, sent, "edna")
    assert restored.request["PATH_INFO"] == change_url(issue)
    assert "Typed while away.</textarea>" in restored.content.decode()
    assert "Your session had expired, so nothing was saved." in " ".join(messages_of(restored))
    issue.refresh_from_db()
    assert issue.week_in_review == "Before."  # shown to be saved, not saved behind the editor's back

    saved = editor_client.post(change_url(issue), change_form_data(restored), follow=True)

    assert "was changed successfully" in " ".join(messages_of(saved))
    issue.refresh_from_db()
    assert issue.week_in_review == "Typed while away."


def test_a_workflow_button_after_expiry_keeps_the_text_and_the_comment_and_moves_nothing(editor_client):
    issue = issue_with_stories()
    page = editor_client.get(change_url(issue))
    editor_client.logout()
    data = {
        **change_form_data(page, week_in_review="Typed, then sent."),
        "_transition": "send_to_review",
        "_comment_send_to_review": "Please look at the second story",
    }

    restored = log_in_again(editor_client, editor_client.post(change_url(issue), data, follow=True), "edna")

    html = restored.content.decode()
    assert "Typed, then sent.</textarea>" in html and ">Please look at the second story</textarea>" in html
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and not issue.events.exists()


def test_a_new_story_typed_after_expiry_is_kept_too(editor_client):
    page = editor_client.get(reverse("admin:stories_story_add"))
    editor_client.logout()
    data = change_form_data(page, title="A story written over lunch", slug="lunch", summary="Long **text**.")

    restored = log_in_again(
        editor_client, editor_client.post(reverse("admin:stories_story_add"), data, follow=True), "edna"
    )

    html = restored.content.decode()
    assert 'value="A story written over lunch"' in html and "Long **text**.</textarea>" in html
    assert not Story.objects.filter(slug="lunch").exists()


def test_only_the_browser_that_posted_can_bring_the_form_back(editor_client):
    issue = issue_with_stories()
    page = editor_client.get(change_url(issue))
    editor_client.logout()
    sent = editor_client.post(change_url(issue), change_form_data(page, week_in_review="Private draft"), follow=True)
    next_url = parse_qs(sent.request["QUERY_STRING"])["next"][0]
    assert "_restore=" in urlsplit(next_url).query

    someone_else = Client()
    someone_else.force_login(user_in_role("Editor", "other"))
    response = someone_else.get(next_url)

    assert "Private draft" not in response.content.decode()
    assert "no longer kept here" in " ".join(messages_of(response))


def test_kept_forms_are_bounded(editor_client, monkeypatch):
    monkeypatch.setattr(kept_forms, "MAX_KEPT", 3)
    issue = issue_with_stories()
    page = editor_client.get(change_url(issue))
    editor_client.logout()
    for n in range(5):
        editor_client.post(change_url(issue), change_form_data(page, week_in_review=f"Attempt {n}"))
    assert KeptForm.objects.count() == 3
    assert sorted(kept.data["week_in_review"][0] for kept in KeptForm.objects.all()) == [
        "Attempt 2",
        "Attempt 3",
        "Attempt 4",
    ]


def test_a_logged_in_save_is_not_kept(editor_client):
    issue = issue_with_stories()
    page = editor_client.get(change_url(issue))
    editor_client.post(change_url(issue), change_form_data(page, week_in_review="Saved at once."))
    assert not KeptForm.objects.exists()
