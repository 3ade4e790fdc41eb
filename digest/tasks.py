"""Celery entry points: they take ids, call the services, and own the retry policy."""

from celery import shared_task
from django.utils import timezone

from . import publishing


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def advance_publication(self, run_id):
    """Advance a publish run; retry a failed step at its backoff time."""
    try:
        publishing.advance_run(run_id)
    except (publishing.StepError, publishing.RunNotReady) as error:
        if error.retry_at is None:
            return  # failed for good (shown in the admin), or another worker holds the run
        countdown = max((error.retry_at - timezone.now()).total_seconds(), 0)
        raise self.retry(countdown=countdown) from error


@shared_task(ignore_result=True)
def publish_due():
    """The beat's minute: start due scheduled issues, re-queue unfinished runs."""
    publishing.publish_due_issues()
