"""Every change of an issue's workflow state, and who may edit what.

Each transition is one function taking keyword arguments. It locks the issue row, checks
the current state and the user's permission, runs the pre-publish checklist where one is
due, saves with ``update_fields``, writes the audit entry, and queues side effects with
``transaction.on_commit``. The admin, commands and tasks call these; none re-implement them.
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .checklist import run_checklist
from .models import Correction, Issue, IssueEvent, IssueState
from .page_cache import purge_issue_pages

S = IssueState
logger = logging.getLogger(__name__)


class TransitionNotAllowed(Exception):
    """The transition does not apply to the issue as it is now."""


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


TRANSITIONS = {
    transition.name: transition
    for transition in [
        Transition("send_to_review", "Send to review", frozenset({S.DRAFT}), S.IN_REVIEW, "digest.review_issue"),
        Transition(
            "request_changes", "Request changes", frozenset({S.IN_REVIEW}), S.DRAFT, "digest.review_issue",
            needs_comment=True,
        ),
        Transition(
            "approve", "Approve", frozenset({S.IN_REVIEW}), S.APPROVED, "digest.review_issue", runs_checklist=True
        ),
        Transition(
            "schedule", "Schedule", frozenset({S.APPROVED}), S.SCHEDULED, "digest.publish_issue", runs_checklist=True
        ),
        Transition("unschedule", "Unschedule", frozenset({S.SCHEDULED}), S.APPROVED, "digest.publish_issue"),
        Transition(
            "publish", "Publish now", frozenset({S.APPROVED, S.SCHEDULED}), S.PUBLISHED, "digest.publish_issue",
            runs_checklist=True,
        ),
        Transition(
            "withdraw", "Withdraw", frozenset({S.PUBLISHED}), S.WITHDRAWN, "digest.publish_issue", needs_comment=True
        ),
        Transition("back_to_draft", "Back to draft", frozenset({S.WITHDRAWN}), S.DRAFT, "digest.publish_issue"),
    ]
}  # fmt: skip


def available_transitions(issue, user):
    """The transitions this user may take on the issue in its current state."""
    return [t for t in TRANSITIONS.values() if issue.state in t.sources and user.has_perm(t.permission)]


def _checked(name, *, issue, by, comment, system):
    """Lock the issue and check the transition may happen; call inside a transaction."""
    transition = TRANSITIONS[name]
    locked = Issue.objects.select_for_update().get(pk=issue.pk)
    if not system and not by.has_perm(transition.permission):
        raise PermissionDenied(f"You may not {transition.label.lower()} issues.")
    if locked.state not in transition.sources:
        raise TransitionNotAllowed(
            f"Issue #{locked.number} is {locked.get_state_display().lower()}; "
            f"“{transition.label}” applies only to {_names(transition.sources)} issues."
        )
    if transition.needs_comment and not comment:
        raise TransitionNotAllowed(f"“{transition.label}” needs a comment saying why.")
    if transition.runs_checklist:
        checklist = run_checklist(locked)
        if not checklist.passed:
            raise ChecklistFailed(checklist)
    return transition, locked


def _transition(name, *, issue, by, comment="", system=False, **changes):
    """Apply a transition under a row lock; ``system`` skips the permission check for the
    publish run and the scheduler, which act on a request already checked (``by`` may be None).
    """
    comment = comment.strip()
    with transaction.atomic():
        transition, locked = _checked(name, issue=issue, by=by, comment=comment, system=system)
        from_state = locked.state
        locked.state = transition.target
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=["state", *changes, "updated_at"])
        IssueEvent.objects.create(
            issue=locked, actor=by, action=name, from_state=from_state, to_state=locked.state, comment=comment
        )
        if transition.target in (S.APPROVED, S.WITHDRAWN):
            from .publishing import cancel_open_runs  # publishing builds on this module

            cancel_open_runs(locked)
        if S.PUBLISHED in (from_state, locked.state):
            # What the public sees changed: drop the cached pages that showed it.
            transaction.on_commit(partial(purge_issue_pages, locked))
    _refresh(issue, locked)
    return issue


def _refresh(issue, locked):
    for field in ("state", "publish_at", "published_at", "updated_at"):
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


def publish(*, issue, by, comment=""):
    """Publish the issue now: check, then start its durable publish run (returned).

    The issue turns published when the run's first step runs, on a worker.
    """
    from .publishing import start_publication  # publishing builds on this module

    with transaction.atomic():
        _checked("publish", issue=issue, by=by, comment=comment.strip(), system=False)
        return start_publication(issue=issue, by=by)


def publish_now(*, issue, by):
    """The publish run's first step: the issue goes live. ``by`` requested it (None: the scheduler)."""
    return _transition("publish", issue=issue, by=by, system=True, published_at=issue.published_at or timezone.now())


def withdraw(*, issue, by, comment):
    return _transition("withdraw", issue=issue, by=by, comment=comment)


def back_to_draft(*, issue, by, comment=""):
    return _transition("back_to_draft", issue=issue, by=by, comment=comment)


ACTIONS = {
    "send_to_review": send_to_review,
    "request_changes": request_changes,
    "approve": approve,
    "schedule": schedule,
    "unschedule": unschedule,
    "publish": publish,
    "withdraw": withdraw,
    "back_to_draft": back_to_draft,
}


# Editing content --------------------------------------------------------------------------


def is_correction(issue):
    """Whether an edit to this issue (or one of its stories) is a public correction."""
    return issue is not None and issue.state == S.PUBLISHED


def can_edit_issue(user, issue):
    if is_correction(issue):
        return user.has_perm("digest.correct_issue")
    return user.has_perm("digest.change_issue")


def can_edit_story(user, story):
    placement = getattr(story, "placement", None) if story.pk else None
    if placement is not None and is_correction(placement.issue):
        return user.has_perm("digest.correct_issue")
    return user.has_perm("stories.change_story")


def ensure_can_edit_issue(user, issue):
    if not can_edit_issue(user, issue):
        raise PermissionDenied("Only publishers may change a published issue." if is_correction(issue) else "")


def ensure_can_edit_story(user, story):
    if not can_edit_story(user, story):
        raise PermissionDenied("Only publishers may change a story of a published issue.")


def record_correction(*, issue, by, note, previous_paths=()):
    """Record a public correction of a published issue, made by ``by``.

    ``previous_paths``: ``issue_page_paths(issue)`` taken before the corrected change, so a
    company, theme or tag the correction took off a story loses it from its page too.
    """
    note = note.strip()
    if not by.has_perm("digest.correct_issue"):
        raise PermissionDenied("Only publishers may correct a published issue.")
    if not is_correction(issue):
        raise TransitionNotAllowed("Only a published issue takes corrections.")
    if not note:
        raise TransitionNotAllowed("A correction needs a short public note.")
    with transaction.atomic():
        correction = Correction.objects.create(issue=issue, note=note, created_by=by)
        IssueEvent.objects.create(
            issue=issue, actor=by, action="correct", from_state=issue.state, to_state=issue.state, comment=note
        )
        transaction.on_commit(partial(purge_issue_pages, issue, previous_paths=previous_paths))
        transaction.on_commit(partial(_rebuild_outputs, issue.pk))
    return correction


def _rebuild_outputs(issue_id):
    """After a correction: the stored PDF is rendered again (it changed) on a worker."""
    from .tasks import render_issue_pdf

    try:
        render_issue_pdf.delay(issue_id)
    except Exception:  # a broker outage: `manage.py render_pdfs` catches up, the page shows the fix already
        logger.warning("Could not queue the PDF rebuild of issue %s.", issue_id, exc_info=True)
