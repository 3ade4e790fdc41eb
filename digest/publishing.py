"""The publish run: a small durable workflow stored in the database.

Publishing an issue creates a ``PublicationRun`` with ordered steps. A worker advances
the run step by step; each step's effects and its "done" mark commit in one transaction
under a lock on the run, so a step's database effects happen exactly once however often a
message is delivered, and a run interrupted anywhere resumes at its first unfinished step.

The database is the source of truth, not the broker: ``publish_due_issues`` (beat, every
minute, or ``manage.py publish_due``) starts due scheduled issues and re-queues every
unfinished run, so a lost message, a dead worker or a Redis outage delays a publication
but never loses it. No publication relies on a broker-side ETA message.
"""

import datetime
import logging
import time
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import workflow
from .edition import store_issue_pdf
from .models import Issue, IssueState, PublicationRun, PublicationStep, RunState, StepStatus
from .signals import issue_published

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


def _mark_published(run, issue):
    workflow.publish_now(issue=issue, by=run.requested_by)


def _render_pdf(run, issue):
    store_issue_pdf(issue)  # renders only when the issue's content changed


def _purge_caches(run, issue):
    from .page_cache import purge_issue_pages

    purge_issue_pages(issue)


def _notify(run, issue):
    issue_published.send(sender=Issue, issue=issue, run=run)
    logger.info("Published issue #%s (%s), run %s", issue.number, issue.slug, run.pk)


STEPS = {
    "mark_published": _mark_published,
    "render_pdf": _render_pdf,
    "purge_caches": _purge_caches,
    "notify": _notify,
}


# Starting, retrying, cancelling ------------------------------------------------------------


def start_publication(*, issue, by):
    """Record the intent to publish the issue now and queue its run; return the run.

    ``by`` is None when the scheduler starts a due issue.
    """
    with transaction.atomic():
        run = PublicationRun.objects.filter(issue=issue, state__in=[RunState.PENDING, RunState.RUNNING]).first()
        if run is not None:
            return run
        run = PublicationRun.objects.create(issue=issue, requested_by=by)
        PublicationStep.objects.bulk_create(
            PublicationStep(run=run, position=position, name=name) for position, name in enumerate(STEPS)
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


def cancel_open_runs(issue):
    """Stop runs that have not published the issue yet (it was unscheduled or withdrawn)."""
    PublicationRun.objects.filter(issue=issue, state__in=[RunState.PENDING, RunState.FAILED]).update(
        state=RunState.CANCELLED, finished_at=timezone.now()
    )


def enqueue_run(run_id):
    """Ask a worker to advance the run. A broker outage only delays it: the beat re-queues it."""
    from .tasks import advance_publication

    try:
        advance_publication.delay(run_id)
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
        if run.state not in (RunState.PENDING, RunState.RUNNING):
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
        if step.status == StepStatus.DONE:
            return
        issue = Issue.objects.get(pk=run.issue_id)
        try:
            with transaction.atomic():
                _fault_injection(step.name)
                STEPS[step.name](run, issue)
        except Exception as error:  # a step may fail in any way: record it
            _record_failure(run, step, error)
        else:
            step.status, step.finished_at, step.last_error, step.retry_at = StepStatus.DONE, timezone.now(), "", None
            step.save(update_fields=["status", "finished_at", "last_error", "retry_at"])
            return
    # The failure is committed above; now tell the caller (the task retries with backoff).
    raise StepError(step.last_error, step.retry_at)


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
    two beats, or a beat and an operator, never start two publications of one issue.
    ``enqueue=False`` leaves the runs for the caller to advance itself. Returns the issues
    started and the ids of the unfinished runs.
    """
    now = now or timezone.now()
    started = []
    with transaction.atomic():
        due = (
            Issue.objects.select_for_update(skip_locked=True)
            .filter(state=IssueState.SCHEDULED, publish_at__lte=now)
            .exclude(publication_runs__state__in=[RunState.PENDING, RunState.RUNNING, RunState.FAILED])
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
    unfinished = list(
        PublicationRun.objects.filter(state__in=[RunState.PENDING, RunState.RUNNING]).values_list("pk", flat=True)
    )
    if enqueue and not dry_run:
        for run_id in unfinished:
            enqueue_run(run_id)
    return started, unfinished


def overdue_issues(now=None):
    """Scheduled issues whose time has passed but which are not live yet."""
    return Issue.objects.filter(state=IssueState.SCHEDULED, publish_at__lte=now or timezone.now())
