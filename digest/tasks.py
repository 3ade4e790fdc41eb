"""Celery entry points: they take ids, load objects, call the services, and own the retry policy.

Names are pinned: queued messages, the beat and the services that queue work by name
(``publishing.ADVANCE_RUN_TASK``) refer to them.
"""

import logging

from celery import shared_task
from django.utils import timezone

from . import edition_preview, publishing, stored_files
from .edition import IssueNotPublished, PDFContentChanged, store_issue_pdf
from .models import Issue
from .pdf import PDFRenderTimeout

logger = logging.getLogger(__name__)


@shared_task(
    name="digest.tasks.advance_publication",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    ignore_result=True,
)
def advance_publication(self, run_id):
    """Advance a publish run; retry a failed step at its backoff time."""
    try:
        publishing.advance_run(run_id)
    except (publishing.StepError, publishing.RunNotReady) as error:
        if error.retry_at is None:
            return  # failed for good (shown in the admin), or another worker holds the run
        countdown = max((error.retry_at - timezone.now()).total_seconds(), 0)
        raise self.retry(countdown=countdown) from error


@shared_task(name="digest.tasks.publish_due", ignore_result=True)
def publish_due():
    """The beat's minute: start due scheduled issues, re-queue unfinished runs."""
    publishing.publish_due_issues()


# A storage hiccup, a render slowed by a busy machine or overtaken by an edit is worth
# another try; any other render error would fail the same way again.
@shared_task(
    name="digest.tasks.render_issue_pdf",
    autoretry_for=(OSError, PDFRenderTimeout, PDFContentChanged),
    retry_backoff=30,
    max_retries=3,
    ignore_result=True,
)
def render_issue_pdf(issue_id):
    """Render and store the PDF of a published issue, if its content changed.

    Corrections do not use it: their rebuild is a run (``publishing.request_pdf_rebuild``).
    """
    try:
        issue = Issue.objects.get(pk=issue_id)
    except Issue.DoesNotExist:
        logger.warning("Issue %s no longer exists: no PDF to render.", issue_id)
        return
    try:
        stored = store_issue_pdf(issue)
    except IssueNotPublished:
        logger.info("Issue %s is no longer published: its PDF is left as it is.", issue_id)
        return
    logger.info("Issue %s: %s.", issue_id, "PDF stored" if stored else "stored PDF is current")


# No automatic retry: a render error is shown to staff, and a worker that dies leaves the
# row "rendering" for the beat (resume_pdf_previews) to retry.
@shared_task(name="digest.tasks.render_pdf_preview", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render_pdf_preview(preview_id):
    """Render an issue's requested DRAFT PDF preview and store it."""
    edition_preview.render_preview(preview_id)


@shared_task(name="digest.tasks.resume_pdf_previews", ignore_result=True)
def resume_pdf_previews():
    """The beat's minute: queue previews no worker took, retry renders a dead worker left."""
    edition_preview.resume_previews()


@shared_task(name="digest.tasks.delete_discarded_files", ignore_result=True)
def delete_discarded_files():
    """The beat's minute: delete the stored files no longer used that the storage refused before."""
    stored_files.delete_discarded()
