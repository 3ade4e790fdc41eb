"""Celery entry points: each loads its objects by id and calls a service."""

import logging

from celery import shared_task

from .edition import IssueNotPublished, store_issue_pdf
from .models import Issue
from .pdf import PDFRenderTimeout

logger = logging.getLogger(__name__)


# A storage hiccup or a render slowed by a busy machine is worth another try; any other
# render error would fail the same way again.
@shared_task(autoretry_for=(OSError, PDFRenderTimeout), retry_backoff=30, max_retries=3)
def render_issue_pdf(issue_id):
    """Render and store the PDF of a published issue, if its content changed."""
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
