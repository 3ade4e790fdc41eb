import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from digest import corrections, publishing, workflow
from digest.models import Correction, IssueEvent, IssueState
from tests.factories import UserFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db

ROLES = ["Contributor", "Editor", "Publisher", "superuser"]
ALLOWED_BY_ROLE = {
    "Contributor": set(),
    "Editor": {"send_to_review", "request_changes", "approve"},
    "Publisher": set(workflow.TRANSITIONS),
    "superuser": set(workflow.TRANSITIONS),
}


def make_user(role):
    if role == "superuser":
        return UserFactory(username="boss", superuser=True)
    return user_in_role(role)


@pytest.fixture
def call(django_capture_on_commit_callbacks):
    """Call a workflow action as the admin does, running what it queues on commit (the publish run)."""

    def call(name, issue, user):
        kwargs = {"issue": issue, "by": user, "comment": "Because."}
        if name == "schedule":
            kwargs["publish_at"] = timezone.now() + datetime.timedelta(days=1)
        with django_capture_on_commit_callbacks(execute=True):
            return publishing.ACTIONS[name](**kwargs)

    return call


@pytest.mark.parametrize(
    ("role", "name", "state"), list(itertools.product(ROLES, workflow.TRANSITIONS, IssueState.values))
)
def test_every_role_transition_and_state(role, name, state, call):
    user = make_user(role)
    issue = issue_with_stories(state=state)
    transition = workflow.TRANSITIONS[name]
    allowed = name in ALLOWED_BY_ROLE[role] and state in transition.sources
    if allowed:
        call(name, issue, user)
        issue.refresh_from_db()
        assert issue.state == transition.target
        event = IssueEvent.objects.get(issue=issue)
        assert (event.actor, event.action, event.from_state, event.to_state) == (user, name, state, transition.target)
        assert event.comment == ("" if name == "publish" else "Because.")
    else:
        expected = PermissionDenied if name not in ALLOWED_BY_ROLE[role] else workflow.TransitionNotAllowed
        with pytest.raises(expected):
            call(name, issue, user)
        issue.refresh_from_db()
        assert issue.state == state
        assert not IssueEvent.objects.exists()


def test_publish_sets_published_at_once_and_keeps_it(call):
    publisher = user_in_role("Publisher")
    issue = issue_with_stories(state=IssueState.APPROVED)
    call("publish", issue, publisher)
    issue.refresh_from_db()
    first = issue.published_at
    assert first is not None and issue.state == IssueState.PUBLISHED
    workflow.withdraw(issue=issue, by=publisher, comment="Legal asked")
    workflow.back_to_draft(issue=issue, by=publisher)
    issue.refresh_from_db()
    assert issue.published_at == first


def test_comment_required_to_request_changes_and_withdraw():
    editor = user_in_role("Editor")
    issue = issue_with_stories(state=IssueState.IN_REVIEW)
    with pytest.raises(workflow.TransitionNotAllowed, match="needs a comment"):
        workflow.request_changes(issue=issue, by=editor, comment="  ")
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW


def test_schedule_refuses_a_time_in_the_past_and_stores_utc():
    publisher = user_in_role("Publisher")
    issue = issue_with_stories(state=IssueState.APPROVED)
    with pytest.raises(workflow.TransitionNotAllowed, match="in the past"):
        workflow.schedule(issue=issue, by=publisher, publish_at=timezone.now() - datetime.timedelta(minutes=1))
    when = timezone.now() + datetime.timedelta(hours=3)
    workflow.schedule(issue=issue, by=publisher, publish_at=when)
    issue.refresh_from_db()
    assert issue.state == IssueState.SCHEDULED and issue.publish_at == when
    workflow.unschedule(issue=issue, by=publisher)
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED and issue.publish_at is None


def test_blocking_checklist_stops_approve_and_lists_what_to_fix():
    editor = user_in_role("Editor")
    issue = issue_with_stories(state=IssueState.IN_REVIEW, top=0, week_in_review="")
    with pytest.raises(workflow.ChecklistFailed) as error:
        workflow.approve(issue=issue, by=editor)
    assert error.value.checklist.blocking == ["Write the Week in Review.", "Add at least one top story."]
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW


def test_scheduler_publishes_without_a_user():
    issue = issue_with_stories(state=IssueState.SCHEDULED, publish_at=timezone.now())
    workflow.publish_now(issue=issue, by=None)
    event = IssueEvent.objects.get()
    assert event.actor is None and event.to_state == IssueState.PUBLISHED


def test_the_system_publishes_only_a_due_issue():
    later = issue_with_stories(state=IssueState.SCHEDULED, publish_at=timezone.now() + datetime.timedelta(hours=1))
    unscheduled = issue_with_stories(state=IssueState.APPROVED)
    for issue in (later, unscheduled):
        with pytest.raises(workflow.TransitionNotAllowed, match="not due"):
            workflow.publish_now(issue=issue, by=None)
    assert not IssueEvent.objects.exists()


def test_corrections_need_a_publisher_a_note_and_a_published_issue():
    publisher, editor = user_in_role("Publisher"), user_in_role("Editor")
    issue = issue_with_stories(published=True)
    with pytest.raises(PermissionDenied):
        corrections.record_correction(issue=issue, by=editor, note="Fixed a typo")
    with pytest.raises(workflow.TransitionNotAllowed, match="short public note"):
        corrections.record_correction(issue=issue, by=publisher, note=" ")
    draft = issue_with_stories()
    with pytest.raises(workflow.TransitionNotAllowed, match="Only a published issue"):
        corrections.record_correction(issue=draft, by=publisher, note="x")
    assert not Correction.objects.exists()
    corrections.record_correction(issue=issue, by=publisher, note="Fixed the company name")
    assert list(issue.corrections.values_list("note", flat=True)) == ["Fixed the company name"]
    assert IssueEvent.objects.get().action == "correct"


def test_who_may_edit_what():
    contributor, editor, publisher = (user_in_role(role) for role in ("Contributor", "Editor", "Publisher"))
    draft, published = issue_with_stories(), issue_with_stories(published=True)
    draft_story, published_story = draft.placements.first().story, published.placements.first().story
    assert workflow.can_edit_story(contributor, draft_story)
    assert not workflow.can_edit_story(contributor, published_story)
    assert not workflow.can_edit_story(editor, published_story)
    assert workflow.can_edit_story(publisher, published_story)
    assert not workflow.can_edit_issue(contributor, draft)
    assert workflow.can_edit_issue(editor, draft)
    assert not workflow.can_edit_issue(editor, published)
    assert workflow.can_edit_issue(publisher, published)


def test_withdrawal_revokes_share_links(client):
    from digest import previews

    publisher = user_in_role("Publisher")
    issue = issue_with_stories(published=True)
    token = previews.share_token(previews.make_share_link(issue=issue, by=publisher))
    assert client.get(reverse("issue_share_preview", args=[token])).status_code == 200
    workflow.withdraw(issue=issue, by=publisher, comment="Legal asked us to.")
    response = client.get(reverse("issue_share_preview", args=[token]))
    assert response.status_code == 403
    assert issue.title not in response.content.decode()
