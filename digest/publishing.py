"""The publish run: a small durable workflow stored in the database.

Publishing an issue creates a ``PublicationRun`` with ordered steps; a correction creates
a correction run that renders the PDF again. A worker advances
the run step by step; each step's effects and its "done" mark commit in one transaction
under a lock on the run, so a step's database effects happen exactly once however often a
message is delivered, and a run interrupted anywhere resumes at its first unfinished step.

The database is the source of truth, not the broker: ``publish_due_issues`` (beat, every
minute, or ``manage.py publish_due``) starts due scheduled issues and re-queues every
unfinished run, so a lost message, a dead worker or a Redis outage delays a publication
but never loses it. No publication relies on a broker-side ETA message.

Before each step a run checks that its issue is still meant to get it: due to go live for
"mark_published", still published for the rest. A run whose issue was unscheduled,
rescheduled or withdrawn meanwhile is cancelled, not carried out.

The steps come from a registry: the core registers its own here, and the outer rooms add
theirs from their ``AppConfig.ready()`` with ``register_step`` (the newsletter's mailing, the
webhooks' calls), so this module never imports them. Workers advance a run through the
Celery task named ``ADVANCE_RUN_TASK`` (``digest.tasks``, which builds on this module).
"""

import datetime
import logging
import time
from dataclasses import dataclass
from functools import partial

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import workflow
from .edition import store_issue_pdf
from .models import (
    OPEN_RUN_STATES,
    UNFINISHED_RUN_STATES,
    Issue,
    IssueState,
    PublicationRun,
    PublicationStep,
    RunKind,
    RunState,
    StepStatus,
)
from .signals import issue_published, issue_transitioned

logger = logging.getLogger(__name__)


class RunNotReady(Exception):
    """The run's next step waits for ``retry_at``, or (``retry_at`` None) another worker holds it."""

    def __init__(self, message, retry_at=None):
        super().__init__(message)
        self.retry_at = retry_at


class StepError(Exception):
    """A step failed: it is retried at ``retry_at``, or never (None) once its attempts ran out."""

    def __init__(self, message, retry_at=None):
        super().__init__(message)
        self.retry_at = retry_at


# Steps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    function: object  # called as function(run, issue) inside the step's transaction
    kinds: frozenset  # the kinds of run (RunKind) that take this step


_STEPS = []  # in the order runs take them


def register_step(name, function, *, kinds=(RunKind.PUBLISH,), before=None):
    """Add a step to the runs of ``kinds`` created from now on, last or just before the step ``before``.

    ``function(run, issue)`` runs inside the step's transaction, after the steps before it,
    at least once and with its database effects exactly once (see the module docstring).
    Outer apps register from their ``AppConfig.ready()``; registering a name again replaces it.
    """
    step = Step(name, function, frozenset(kinds))
    unregister_step(name)
    names = [existing.name for existing in _STEPS]
    _STEPS.insert(names.index(before) if before in names else len(_STEPS), step)


def unregister_step(name):
    """Remove a step from the runs created from now on (runs already created still list it)."""
    _STEPS[:] = [step for step in _STEPS if step.name != name]


def steps_for(kind):
    """The names of the steps a new run of ``kind`` takes, in order."""
    return [step.name for step in _STEPS if kind in step.kinds]


def _mark_published(run, issue):
    workflow.publish_now(issue=issue, by=run.requested_by)


def _render_pdf(run, issue):
    store_issue_pdf(issue)  # renders only when the issue's content changed


def _notify(run, issue):
    issue_published.send(sender=Issue, issue=issue, run=run)
    logger.info("Published issue #%s (%s), run %s", issue.number, issue.slug, run.pk)


register_step("mark_published", _mark_published)
register_step("render_pdf", _render_pdf, kinds=(RunKind.PUBLISH, RunKind.CORRECTION))
register_step("notify", _notify)


def _reason_to_stop(step, issue):
    """Why the run must not take ``step`` on ``issue`` as it is now; "" when it may."""
    if step.name == "mark_published":
        if workflow.is_due(issue):
            return ""
        return f"issue #{issue.number} is no longer due to go live (unscheduled, rescheduled or withdrawn)"
    if issue.state != IssueState.PUBLISHED:
        return f"issue #{issue.number} is {issue.get_state_display().lower()}, no longer published"
    return ""


# Starting, retrying, cancelling ------------------------------------------------------------


def publish(*, issue, by, comment=""):
    """Publish the issue now: check, make it due, then start its durable publish run (returned).

    The issue turns published when the run's first step runs, on a worker.
    """
    with transaction.atomic():
        workflow.make_due(issue=issue, by=by, comment=comment)
        return start_publication(issue=issue, by=by)


# Every workflow action by name, "Publish now" included: what the newsroom's buttons call.
ACTIONS = {
    "send_to_review": workflow.send_to_review,
    "request_changes": workflow.request_changes,
    "approve": workflow.approve,
    "schedule": workflow.schedule,
    "unschedule": workflow.unschedule,
    "publish": publish,
    "withdraw": workflow.withdraw,
    "back_to_draft": workflow.back_to_draft,
}


def start_publication(*, issue, by):
    """Record the intent to publish the issue now and queue its run; return the run.

    An unfinished publication run of the issue is returned as it is; a failed one is
    superseded (cancelled, its error kept) by a new run. ``by`` is None when the scheduler
    starts a due issue.
    """
    with transaction.atomic():
        run = PublicationRun.objects.filter(issue=issue, kind=RunKind.PUBLISH, state__in=OPEN_RUN_STATES).first()
        if run is not None and run.state in UNFINISHED_RUN_STATES:
            return run
        if run is not None:
            PublicationRun.objects.filter(pk=run.pk, state=RunState.FAILED).update(
                state=RunState.CANCELLED, finished_at=timezone.now()
            )
        return _create_run(issue=issue, kind=RunKind.PUBLISH, by=by)


def request_pdf_rebuild(*, issue, by):
    """Record that the issue's stored PDF must be rendered again; return the new run, if any.

    Call it inside the transaction of the change, with the issue's row locked
    (``corrections.record_correction``). A render step that has not finished yet stores its PDF
    under that lock, after this change commits, and so renders it too
    (``edition.store_issue_pdf``); otherwise a correction run is created.
    """
    unfinished_render = PublicationStep.objects.filter(
        run__issue=issue, run__state__in=UNFINISHED_RUN_STATES, name="render_pdf"
    ).exclude(status=StepStatus.DONE)
    if unfinished_render.exists():
        return None
    return _create_run(issue=issue, kind=RunKind.CORRECTION, by=by)


def _create_run(*, issue, kind, by):
    run = PublicationRun.objects.create(issue=issue, kind=kind, requested_by=by)
    PublicationStep.objects.bulk_create(
        PublicationStep(run=run, position=position, name=name) for position, name in enumerate(steps_for(kind))
    )
    transaction.on_commit(partial(enqueue_run, run.pk))
    return run


def retry_run(*, run, by):
    """Give a failed run a fresh set of attempts, from its first unfinished step."""
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may retry a publication.")
    with transaction.atomic():
        run = PublicationRun.objects.select_for_update().get(pk=run.pk)
        if run.state != RunState.FAILED:
            raise workflow.TransitionNotAllowed(f"Only a failed run can be retried; this one is {run.state}.")
        run.steps.exclude(status=StepStatus.DONE).update(status=StepStatus.PENDING, attempts=0, retry_at=None)
        run.state = RunState.PENDING
        run.save(update_fields=["state", "updated_at"])
        transaction.on_commit(partial(enqueue_run, run.pk))
    return run


def cancel_open_runs(issue, *, reason):
    """Stop every run of the issue that is not over: it was unscheduled, rescheduled or withdrawn.

    Called with the issue's row locked. A run that a worker holds at this moment is left
    alone rather than waited for: the worker's step locks the run and then the issue, so
    waiting here could deadlock. That worker re-checks the issue before its next step
    (and when its step fails) and cancels its run itself.
    """
    runs = PublicationRun.objects.select_for_update(skip_locked=True).filter(issue=issue, state__in=OPEN_RUN_STATES)
    for run in runs:
        # A failed run keeps its error; an unfinished one says why it stopped.
        run.last_error = run.last_error if run.state == RunState.FAILED else f"Cancelled: {reason}."
        run.state, run.finished_at = RunState.CANCELLED, timezone.now()
        run.save(update_fields=["state", "finished_at", "last_error", "updated_at"])


# A run started before one of these transitions no longer stands for what is wanted.
_STOPS_RUNS = {"unschedule": "the issue was unscheduled", "schedule": "the issue was scheduled anew",
               "withdraw": "the issue was withdrawn",
               "content_changed": "the issue changed after it was approved"}  # fmt: skip


def _stop_runs_on_transition(sender, *, issue, name, **kwargs):
    if name in _STOPS_RUNS:
        cancel_open_runs(issue, reason=_STOPS_RUNS[name])


issue_transitioned.connect(_stop_runs_on_transition, dispatch_uid="digest.publishing.stop_runs")

# Looked up by name: the task module builds on this one, so this one cannot import it.
ADVANCE_RUN_TASK = "digest.tasks.advance_publication"


def enqueue_run(run_id):
    """Ask a worker to advance the run. A broker outage only delays it: the beat re-queues it."""
    try:
        current_app.tasks[ADVANCE_RUN_TASK].delay(run_id)
    except Exception:  # any broker failure: the database still holds the run
        logger.warning("Could not queue publication run %s; the next beat will.", run_id, exc_info=True)


# Advancing ------------------------------------------------------------------------------


def advance_run(run_id):
    """Run the run's remaining steps in order. Safe to call any number of times, anywhere.

    Raises StepError when a step failed and will be retried (its ``retry_at`` says when),
    RunNotReady when the next step is still backing off or another worker holds the run.
    """
    while True:
        step = _claim_next_step(run_id)
        if step is None:
            return
        _execute_step(run_id, step.pk)


def _claim_next_step(run_id):
    """Mark the next step running (committed, so the admin sees it); None when the run is over."""
    with transaction.atomic():
        run = PublicationRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None:
            raise RunNotReady(f"Run {run_id} is being advanced by another worker.")
        if run.state not in UNFINISHED_RUN_STATES:
            return None
        step = run.steps.exclude(status=StepStatus.DONE).order_by("position").first()
        if step is None:
            run.state, run.finished_at, run.last_error = RunState.COMPLETED, timezone.now(), ""
            run.save(update_fields=["state", "finished_at", "last_error", "updated_at"])
            return None
        if step.retry_at and step.retry_at > timezone.now():
            raise RunNotReady(f"Step {step.name} of run {run_id} waits until {step.retry_at:%H:%M:%S}.", step.retry_at)
        step.status, step.started_at, step.attempts = StepStatus.RUNNING, timezone.now(), step.attempts + 1
        step.save(update_fields=["status", "started_at", "attempts"])
        if run.state != RunState.RUNNING:
            run.state = RunState.RUNNING
            run.save(update_fields=["state", "updated_at"])
        return step


def _execute_step(run_id, step_id):
    with transaction.atomic():
        run = PublicationRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None:
            raise RunNotReady(f"Run {run_id} is being advanced by another worker.")
        step = PublicationStep.objects.get(pk=step_id)
        if step.status == StepStatus.DONE or run.state not in UNFINISHED_RUN_STATES:
            return
        issue = Issue.objects.get(pk=run.issue_id)
        reason = _reason_to_stop(step, issue)
        if not reason:
            try:
                with transaction.atomic():
                    _fault_injection(step.name)
                    _step_function(step.name)(run, issue)
            except workflow.ContentChanged as error:
                # Not what was approved: never published. Its savepoint is rolled back, so the
                # issue goes back to review here (which cancels its runs), then this run fails.
                workflow.return_to_review(issue=issue, by=None, comment=str(error))
                _record_failure(run, step, error)
            except Exception as error:  # a step may fail in any way: record it
                # The issue may have been unscheduled or withdrawn while the step ran.
                issue.refresh_from_db()
                reason = _reason_to_stop(step, issue)
                if not reason:
                    _record_failure(run, step, error)
            else:
                step.status, step.finished_at, step.last_error, step.retry_at = (
                    StepStatus.DONE,
                    timezone.now(),
                    "",
                    None,
                )
                step.save(update_fields=["status", "finished_at", "last_error", "retry_at"])
                return
        if reason:
            _cancel(run, step, reason)
            return
    # The failure is committed above; now tell the caller (the task retries with backoff).
    raise StepError(step.last_error, step.retry_at)


def _step_function(name):
    for step in _STEPS:
        if step.name == name:
            return step.function
    # A step that a later release removed (a run older than the deploy): nothing left to do.
    logger.warning("Step %s is no longer registered; it is marked done.", name)
    return lambda run, issue: None


def _cancel(run, step, reason):
    logger.info("Publication run %s stops before step %s: %s.", run.pk, step.name, reason)
    step.status, step.retry_at = StepStatus.PENDING, None
    step.save(update_fields=["status", "retry_at"])
    run.state, run.finished_at, run.last_error = RunState.CANCELLED, timezone.now(), f"Cancelled: {reason}."
    run.save(update_fields=["state", "finished_at", "last_error", "updated_at"])


def _record_failure(run, step, error):
    message = f"{type(error).__name__}: {error}"
    logger.warning("Publication run %s, step %s, attempt %s failed: %s", run.pk, step.name, step.attempts, message)
    step.last_error = message
    permanent = isinstance(error, workflow.TransitionNotAllowed | PermissionDenied)
    if permanent or step.attempts >= settings.PUBLISHING_MAX_ATTEMPTS:
        step.status, step.retry_at = StepStatus.FAILED, None
        run.state, run.last_error = RunState.FAILED, f"{step.name}: {message}"
        run.save(update_fields=["state", "last_error", "updated_at"])
    else:
        step.status, step.retry_at = StepStatus.PENDING, timezone.now() + retry_delay(step.attempts)
    step.save(update_fields=["status", "last_error", "retry_at"])


def retry_delay(attempts):
    """Exponential backoff with a cap: base, 2×base, 4×base…"""
    seconds = settings.PUBLISHING_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.PUBLISHING_RETRY_BACKOFF_MAX_SECONDS))


def _fault_injection(step_name):
    """Slow a step down, for the fault tests that kill a worker in the middle of one."""
    delay = settings.PUBLISHING_FAULT_DELAYS.get(step_name)
    if delay:
        time.sleep(float(delay))


# The scheduler ----------------------------------------------------------------------------


def publish_due_issues(*, now=None, dry_run=False, enqueue=True):
    """Start every scheduled issue that is due and re-queue every unfinished run.

    Row locks (SKIP LOCKED) and the one-open-run constraint make concurrent calls safe:
    two beats, or a beat and an operator, never start two publications of one issue. A due
    issue whose publication failed waits for a person (retry, "Publish now" or a new
    schedule) rather than failing again every minute. ``enqueue=False`` leaves the runs for
    the caller to advance itself. Returns the issues started and the ids of the unfinished runs.
    """
    now = now or timezone.now()
    started = []
    with transaction.atomic():
        due = (
            Issue.objects.select_for_update(skip_locked=True)
            .filter(state=IssueState.SCHEDULED, publish_at__lte=now)
            .exclude(
                Exists(
                    PublicationRun.objects.filter(issue=OuterRef("pk"), kind=RunKind.PUBLISH, state__in=OPEN_RUN_STATES)
                )
            )
            .order_by("publish_at")
        )
        for issue in due:
            started.append(issue)
            if not dry_run:
                try:
                    with transaction.atomic():
                        start_publication(issue=issue, by=None)
                except IntegrityError:
                    continue  # another scheduler started it between our query and insert
    unfinished = list(PublicationRun.objects.filter(state__in=UNFINISHED_RUN_STATES).values_list("pk", flat=True))
    if enqueue and not dry_run:
        for run_id in unfinished:
            enqueue_run(run_id)
    return started, unfinished


def overdue_issues(now=None):
    """Scheduled issues whose time has passed but which are not live yet."""
    return Issue.objects.filter(state=IssueState.SCHEDULED, publish_at__lte=now or timezone.now())
