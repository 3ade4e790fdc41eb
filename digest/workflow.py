"""Every change of an issue's workflow state, and who may edit what.

Each transition is one function taking keyword arguments. It locks the issue row, checks
the current state and the user's permission, runs the pre-publish checklist where one is
due, saves with ``update_fields``, writes the audit entry, and queues side effects with
``transaction.on_commit``. The admin, commands and tasks call these; none re-implement them.

Each transition is announced with ``signals.issue_transitioned`` inside its transaction: the
publish run (``publishing``) stops runs that no longer stand for what is wanted, the reader
site purges what it showed. This module knows neither of them.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from . import stored_files
from .checklist import run_checklist
from .fingerprint import describe_changes, fingerprint, issue_content
from .models import Issue, IssueEvent, IssueState
from .previews import revoke_all
from .signals import issue_transitioned

S = IssueState
# The fields where an approval records what it stands for (``digest.fingerprint``).
APPROVAL_FIELDS = ("approved_fingerprint", "approved_content")


class TransitionNotAllowed(Exception):
    """The transition does not apply to the issue as it is now."""


class ContentChanged(TransitionNotAllowed):
    """The issue's content is no longer what was approved; ``changes`` says how."""

    def __init__(self, issue, changes):
        self.changes = changes
        super().__init__(
            f"Issue #{issue.number} changed after it was approved, so it was not published: "
            + " ".join(changes or ["its content differs from what was approved."])
        )


class ChecklistFailed(TransitionNotAllowed):
    def __init__(self, checklist):
        self.checklist = checklist
        super().__init__("Fix these first: " + " ".join(checklist.blocking))


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    target: str
    permission: str
    needs_comment: bool = False
    runs_checklist: bool = False
    records_content: bool = False  # store the content's fingerprint: what the approval stands for
    checks_content: bool = False  # refuse unless the content is still what was approved


TRANSITIONS = {
    transition.name: transition
    for transition in [
        Transition("send_to_review", "Send to review", frozenset({S.DRAFT}), S.IN_REVIEW, "digest.review_issue"),
        Transition(
            "request_changes", "Request changes", frozenset({S.IN_REVIEW}), S.DRAFT, "digest.review_issue",
            needs_comment=True,
        ),
        Transition(
            "approve", "Approve", frozenset({S.IN_REVIEW}), S.APPROVED, "digest.review_issue", runs_checklist=True,
            records_content=True,
        ),
        Transition(
            "schedule", "Schedule", frozenset({S.APPROVED}), S.SCHEDULED, "digest.publish_issue", runs_checklist=True
        ),
        Transition("unschedule", "Unschedule", frozenset({S.SCHEDULED}), S.APPROVED, "digest.publish_issue"),
        Transition(
            "publish", "Publish now", frozenset({S.APPROVED, S.SCHEDULED}), S.PUBLISHED, "digest.publish_issue",
            runs_checklist=True, checks_content=True,
        ),
        Transition(
            "withdraw", "Withdraw", frozenset({S.PUBLISHED}), S.WITHDRAWN, "digest.publish_issue", needs_comment=True
        ),
        Transition("back_to_draft", "Back to draft", frozenset({S.WITHDRAWN}), S.DRAFT, "digest.publish_issue"),
    ]
}  # fmt: skip

# Transitions no one chooses: the system takes them when something happens to the issue.
SYSTEM_TRANSITIONS = {
    "content_changed": Transition(
        "content_changed", "Back to review: content changed after approval", frozenset({S.APPROVED, S.SCHEDULED}),
        S.IN_REVIEW, "",
    ),
}  # fmt: skip


def available_transitions(issue, user):
    """The transitions this user may take on the issue in its current state."""
    return [t for t in TRANSITIONS.values() if issue.state in t.sources and user.has_perm(t.permission)]


def is_due(issue):
    """Whether the issue is meant to go live now: "Publish now" was asked, or its time has come.

    The publish run checks this under the issue's row lock before the issue goes live: an
    issue unscheduled (or rescheduled for later) meanwhile is approved (or scheduled) again
    but no longer due, so a run left over from before cannot publish it.
    """
    return (
        issue.state in TRANSITIONS["publish"].sources
        and issue.publish_at is not None
        and issue.publish_at <= timezone.now()
    )


def _checked(name, *, issue, by, comment, system, due=False):
    """Lock the issue and check the transition may happen; call inside a transaction.

    ``due`` also requires the issue to be due to go live (``is_due``).
    """
    transition = TRANSITIONS.get(name) or SYSTEM_TRANSITIONS[name]
    locked = Issue.objects.select_for_update().get(pk=issue.pk)
    if not system and not by.has_perm(transition.permission):
        raise PermissionDenied(f"You may not {transition.label.lower()} issues.")
    if locked.state not in transition.sources:
        raise TransitionNotAllowed(
            f"Issue #{locked.number} is {locked.get_state_display().lower()}; "
            f"“{transition.label}” applies only to {_names(transition.sources)} issues."
        )
    if due and not is_due(locked):
        raise TransitionNotAllowed(f"Issue #{locked.number} is not due to go live: it was unscheduled or rescheduled.")
    if transition.needs_comment and not comment:
        raise TransitionNotAllowed(f"“{transition.label}” needs a comment saying why.")
    if transition.runs_checklist:
        checklist = run_checklist(locked)
        if not checklist.passed:
            raise ChecklistFailed(checklist)
    return transition, locked


def _transition(name, *, issue, by, comment="", system=False, due=False, **changes):
    """Apply a transition under a row lock; ``system`` skips the permission check for the
    publish run and the scheduler, which act on a request already checked (``by`` may be None).
    """
    comment = comment.strip()
    with transaction.atomic():
        transition, locked = _checked(name, issue=issue, by=by, comment=comment, system=system, due=due)
        if transition.checks_content or transition.records_content:
            content = issue_content(locked)
            if transition.checks_content and fingerprint(content) != locked.approved_fingerprint:
                raise ContentChanged(locked, describe_changes(locked.approved_content, content))
            if transition.records_content:
                changes.update(approved_fingerprint=fingerprint(content), approved_content=content)
        from_state = locked.state
        locked.state = transition.target
        if transition.target == S.WITHDRAWN:
            # A reviewer's link must not keep showing what was taken down, nor its PDF's address.
            revoke_all(locked)
            changes.update(stored_files.pdf_withdrawn(locked))
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=["state", *changes, "updated_at"])
        IssueEvent.objects.create(
            issue=locked, actor=by, action=name, from_state=from_state, to_state=locked.state, comment=comment
        )
        issue_transitioned.send(
            sender=Issue, issue=locked, name=name, from_state=from_state, to_state=locked.state, by=by
        )
    _refresh(issue, locked)
    return issue


def _refresh(issue, locked):
    fields = ("state", "publish_at", "published_at", "updated_at", *APPROVAL_FIELDS)
    for field in fields:
        setattr(issue, field, getattr(locked, field))


def _names(states):
    return " or ".join(sorted(S(state).label.lower() for state in states))


def send_to_review(*, issue, by, comment=""):
    return _transition("send_to_review", issue=issue, by=by, comment=comment)


def request_changes(*, issue, by, comment):
    return _transition("request_changes", issue=issue, by=by, comment=comment)


def approve(*, issue, by, comment=""):
    return _transition("approve", issue=issue, by=by, comment=comment)


def schedule(*, issue, by, publish_at, comment=""):
    if publish_at is None:
        raise TransitionNotAllowed("Choose the date and time to publish at.")
    if publish_at <= timezone.now():
        raise TransitionNotAllowed("The publication time is in the past; choose a time in the future.")
    comment = comment or f"for {timezone.localtime(publish_at):%Y-%m-%d %H:%M %Z}"
    return _transition("schedule", issue=issue, by=by, comment=comment, publish_at=publish_at)


def unschedule(*, issue, by, comment=""):
    return _transition("unschedule", issue=issue, by=by, comment=comment, publish_at=None)


def make_due(*, issue, by, comment=""):
    """Check that ``by`` may publish the issue now and make it due (``is_due``); return the locked row.

    Call it inside a transaction; the publish run (``publishing.publish``) then takes it live.
    """
    _, locked = _checked("publish", issue=issue, by=by, comment=comment.strip(), system=False)
    now = timezone.now()
    if locked.publish_at is None or locked.publish_at > now:
        # "Now" is when it is due: the run publishes only a due issue (is_due).
        Issue.objects.filter(pk=locked.pk).update(publish_at=now)
        locked.publish_at = issue.publish_at = now
    return locked


def publish_now(*, issue, by):
    """The publish run's first step: the due issue goes live. ``by`` requested it (None: the scheduler)."""
    published_at = issue.published_at or timezone.now()
    return _transition("publish", issue=issue, by=by, system=True, due=True, published_at=published_at)


def return_to_review(*, issue, by, comment):
    """Send an approved or scheduled issue whose content changed back to review, unscheduled.

    A system transition (``approval`` takes it when it sees the change, the publish run when
    it finds one): ``by`` made the change, or is None when unknown. The publish run's
    receiver cancels any run the issue had (``publishing``).
    """
    return _transition("content_changed", issue=issue, by=by, comment=comment, system=True, publish_at=None)


def withdraw(*, issue, by, comment):
    return _transition("withdraw", issue=issue, by=by, comment=comment)


def back_to_draft(*, issue, by, comment=""):
    return _transition("back_to_draft", issue=issue, by=by, comment=comment)


# Editing content --------------------------------------------------------------------------


def is_correction(issue):
    """Whether an edit to this issue (or one of its stories) is a public correction."""
    return issue is not None and issue.state == S.PUBLISHED


def why_not_edit_issue(user, issue):
    """Say why ``user`` may not edit ``issue``, in words for them; return "" if they may."""
    if is_correction(issue):
        if user.has_perm("digest.correct_issue"):
            return ""
        return f"Issue #{issue.number} is published: corrections go through a publisher."
    if user.has_perm("digest.change_issue"):
        return ""
    return "Editors assemble issues: your role may read them, not change them."


def why_not_edit_story(user, story):
    """Say why ``user`` may not edit ``story``, in words for them; return "" if they may."""
    placement = getattr(story, "placement", None) if story.pk else None
    if placement is not None and is_correction(placement.issue):
        if user.has_perm("digest.correct_issue"):
            return ""
        return (
            f"This story is in issue #{placement.issue.number}, which is published: corrections go through a publisher."
        )
    if user.has_perm("stories.change_story"):
        return ""
    return "Your role may read stories, not change them."


def can_edit_issue(user, issue):
    return not why_not_edit_issue(user, issue)


def can_edit_story(user, story):
    return not why_not_edit_story(user, story)


def ensure_can_edit_issue(user, issue):
    if refusal := why_not_edit_issue(user, issue):
        raise PermissionDenied(refusal)


def ensure_can_edit_story(user, story):
    if refusal := why_not_edit_story(user, story):
        raise PermissionDenied(refusal)
