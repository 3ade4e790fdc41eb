"""Nothing typed is lost: a workflow button on the issue's change form saves what was typed first."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from digest.models import IssueEvent, IssueState
from tests.admin_forms import change_form_data
from tests.factories import CompanyFactory, StoryFactory, UserFactory, issue_with_stories, user_in_role
from tests.newsroom.clients import change_url, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return logged_in(user_in_role("Editor"))


@pytest.fixture
def publisher():
    return logged_in(user_in_role("Publisher"))


def click(client, issue, name, page=None, **changes):
    """Post the issue's change form (as opened in ``page``, with ``changes`` typed) with a workflow button."""
    page = page or client.get(change_url(issue))
    return client.post(change_url(issue), {**change_form_data(page, **changes), "_transition": name}, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_the_workflow_buttons_belong_to_the_change_form(editor):
    issue = issue_with_stories()
    html = editor.get(change_url(issue)).content.decode()
    assert '<button type="submit" form="issue_form" class="button" name="_transition" value="send_to_review">' in html
    assert 'name="_comment_send_to_review" form="issue_form"' in html
    # Enter in a field still saves: a hidden Save is the form's first button, before the workflow's.
    assert html.index('form="issue_form" name="_save" hidden') < html.index('value="send_to_review"')


def test_a_workflow_button_saves_the_typed_text_then_moves_the_issue(editor):
    issue = issue_with_stories()
    response = click(
        editor, issue, "send_to_review", week_in_review="Typed before sending.", _comment_send_to_review="Ready"
    )
    assert response.redirect_chain[-1][0] == change_url(issue)
    assert messages_of(response) == [
        f"Saved your changes to issue #{issue.number}.",
        f"Issue #{issue.number} is now in review.",
    ]
    issue.refresh_from_db()
    assert issue.week_in_review == "Typed before sending."
    assert issue.state == IssueState.IN_REVIEW
    assert IssueEvent.objects.get().comment == "Ready"
    assert "Typed before sending." in response.content.decode()


def test_the_checklist_sees_what_was_typed_with_the_button(editor):
    issue = issue_with_stories(state=IssueState.IN_REVIEW, week_in_review="")
    click(editor, issue, "approve", week_in_review="Written at the last moment.")
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED
    assert issue.week_in_review == "Written at the last moment."


def test_inline_changes_are_saved_with_the_button(editor):
    issue = issue_with_stories(top=2)
    click(editor, issue, "send_to_review", **{"placements-0-position": "7"})
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW
    assert 7 in issue.placements.values_list("position", flat=True)


def test_a_refused_save_keeps_everything_typed_and_does_not_move_the_issue(editor):
    other = logged_in(user_in_role("Editor", "other"))
    issue = issue_with_stories(week_in_review="Original")
    mine, theirs = editor.get(change_url(issue)), other.get(change_url(issue))
    assert other.post(change_url(issue), change_form_data(theirs, title="Their title")).status_code == 302

    response = click(
        editor, issue, "send_to_review", page=mine, week_in_review="My new text", _comment_send_to_review="My note"
    )
    html = response.content.decode()
    assert response.status_code == 200 and not response.redirect_chain
    assert "other saved this issue at" in html
    assert "My new text" in html
    assert ">My note</textarea>" in html
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and issue.week_in_review == "Original" and issue.title == "Their title"
    assert not IssueEvent.objects.exists()

    # Clicking again, deliberately, replaces their version and moves the issue.
    response = click(editor, issue, "send_to_review", page=response, week_in_review="My new text")
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW and issue.week_in_review == "My new text"


def test_an_invalid_form_keeps_the_text_and_does_not_move_the_issue(editor):
    issue = issue_with_stories()
    response = click(editor, issue, "send_to_review", week_in_review="Kept", week_end="not a date")
    assert response.status_code == 200 and "Enter a valid date." in response.content.decode()
    assert "Kept" in response.content.decode()
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and issue.week_in_review != "Kept"


def test_a_refused_transition_keeps_what_was_saved_and_the_comment(editor):
    issue = issue_with_stories(state=IssueState.IN_REVIEW, week_in_review="", patterns="Old patterns")
    response = click(editor, issue, "approve", patterns="New patterns", _comment_approve="Good to go")
    assert messages_of(response) == [
        f"Saved your changes to issue #{issue.number}.",
        "“Approve” is blocked until these are fixed:",
        "Write the Week in Review.",
    ]
    issue.refresh_from_db()
    assert issue.patterns == "New patterns" and issue.state == IssueState.IN_REVIEW
    assert ">Good to go</textarea>" in response.content.decode()
    # Shown once: the next visit starts empty.
    assert ">Good to go</textarea>" not in editor.get(change_url(issue)).content.decode()


def test_a_transition_the_user_may_not_take_keeps_what_was_saved(editor):
    issue = issue_with_stories(state=IssueState.IN_REVIEW)
    response = click(editor, issue, "schedule", week_in_review="Edited by an editor", _publish_at="2030-01-01T09:00")
    assert "You may not schedule issues." in messages_of(response)
    issue.refresh_from_db()
    assert issue.week_in_review == "Edited by an editor" and issue.state == IssueState.IN_REVIEW


def test_typing_into_an_approved_issue_then_a_button_sends_it_back_to_review_instead(publisher):
    """What was approved is what goes out: the save comes first, and it changed approved content."""
    issue = issue_with_stories(state=IssueState.APPROVED)
    response = click(publisher, issue, "publish", week_in_review="Final words.")
    messages = " ".join(messages_of(response))
    assert f"Saved your changes to issue #{issue.number}." in messages
    assert "“Publish now” applies only to approved or scheduled issues" in messages
    assert "sent it back to review" in messages
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW and issue.week_in_review == "Final words."


def test_an_unchanged_form_moves_the_issue_without_a_save(publisher):
    """Withdrawing a published issue needs no correction note when nothing was typed into it."""
    issue = issue_with_stories(published=True, week_in_review="Line one.\nLine two.")
    page = publisher.get(change_url(issue))
    # A browser sends a textarea's line ends as CRLF: that alone is no change.
    response = click(
        publisher,
        issue,
        "withdraw",
        page=page,
        week_in_review="Line one.\r\nLine two.",
        _comment_withdraw="Legal",
        confirm="withdraw",
    )
    assert messages_of(response) == [f"Issue #{issue.number} is now withdrawn."]
    issue.refresh_from_db()
    assert issue.state == IssueState.WITHDRAWN and issue.version == 0 and not issue.corrections.exists()


def test_a_change_to_a_published_issue_needs_its_correction_note_before_any_transition(publisher):
    issue = issue_with_stories(published=True, week_in_review="Old")
    response = click(publisher, issue, "withdraw", week_in_review="New", _comment_withdraw="Legal", confirm="withdraw")
    assert "add a short public note" in response.content.decode()
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED and issue.week_in_review == "Old"


@freeze_time("2026-05-01 10:00:00")
def test_schedule_and_unschedule_from_the_change_form(publisher, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # Nothing typed: an approved issue's content is what it was approved with.
    issue = issue_with_stories(state=IssueState.APPROVED)
    response = click(publisher, issue, "schedule")
    assert "Choose the date and time to publish at." in messages_of(response)
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED

    click(publisher, issue, "schedule", _publish_at="2026-05-02T09:00")
    issue.refresh_from_db()
    assert issue.state == IssueState.SCHEDULED
    assert issue.publish_at == datetime.datetime(2026, 5, 2, 7, 0, tzinfo=datetime.UTC)

    response = click(publisher, issue, "schedule", _publish_at="2026-05-03T09:00")
    assert "applies only to approved issues" in " ".join(messages_of(response))
    response = click(publisher, issue, "unschedule")
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED and issue.publish_at is None


def test_publish_now_from_the_change_form(publisher, django_capture_on_commit_callbacks):
    issue = issue_with_stories(state=IssueState.APPROVED)
    with django_capture_on_commit_callbacks(execute=True):
        response = click(publisher, issue, "publish")
    assert "queued for publication" in " ".join(messages_of(response))
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED
    assert timezone.now() - issue.published_at < datetime.timedelta(minutes=1)


def test_a_read_only_page_still_offers_and_takes_its_transitions():
    reviewer = UserFactory(username="reviewer", is_staff=True)
    reviewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="digest", codename__in=["view_issue", "review_issue"])
    )
    client = logged_in(reviewer)
    issue = issue_with_stories(state=IssueState.IN_REVIEW)
    page = client.get(change_url(issue))
    html = page.content.decode()
    assert 'value="approve"' in html and 'name="_save"' not in html  # nothing to save here
    response = client.post(change_url(issue), {"_transition": "approve", "_comment_approve": "Fine"}, follow=True)
    assert messages_of(response) == [f"Issue #{issue.number} is now approved."]
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED
    assert IssueEvent.objects.get().comment == "Fine"


def test_a_contributor_moves_nothing_through_the_change_form():
    issue = issue_with_stories()
    contributor = logged_in(user_in_role("Contributor"))
    response = contributor.post(
        change_url(issue), {"_transition": "send_to_review", "week_in_review": "x"}, follow=True
    )
    assert "You may not send to review issues." in messages_of(response)
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and issue.week_in_review != "x"


def test_an_unknown_action_is_reported_after_the_save(editor):
    issue = issue_with_stories()
    response = click(editor, issue, "nonsense", week_in_review="Still saved")
    assert "Unknown workflow action." in messages_of(response)
    issue.refresh_from_db()
    assert issue.week_in_review == "Still saved" and issue.state == IssueState.DRAFT


@pytest.mark.parametrize("kind", ["issue", "story", "company"])
def test_change_forms_load_the_unsaved_changes_guard(editor, kind):
    obj = {"issue": issue_with_stories, "story": StoryFactory, "company": CompanyFactory}[kind]()
    for url in (change_url(obj), reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_add")):
        assert 'src="/static/newsroom/unsaved-changes.js"' in editor.get(url).content.decode(), url
