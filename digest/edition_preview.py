"""The DRAFT PDF preview of an issue, rendered by a worker and stored, never on a request.

A render of a long issue takes tens of seconds and up to the renderer's memory limit:
on a web request it held a gunicorn worker past its timeout. Staff asking for a preview
write (or reuse) a ``PDFPreview`` row; a Celery task renders it; the admin answers at once
with the stored file when it was made from the issue's current draft document, or with a
page saying it is being prepared. The row, not the broker, is the source of truth: the
beat queues requested previews no worker took and retries renders a dead worker left.
"""

import datetime
import logging
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from .edition import edition_filename, issue_document, render_document
from .models import PDFPreview, PreviewState
from .pdf import PDFRenderError

logger = logging.getLogger(__name__)

# A requested preview whose message was lost (broker down, worker busy) is queued again
# after this long; a duplicate message is harmless, the row is claimed once.
REQUEUE_AFTER = datetime.timedelta(seconds=60)
# Renders started this many times for one document without finishing are given up.
MAX_ATTEMPTS = 3


def stale_render_after():
    """Return how long a render may run: past the task's hard time limit, its worker is dead."""
    return datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def request_preview(*, issue, retry=False):
    """Return the issue's PDFPreview for its current draft document, queuing a render if needed.

    An unchanged issue reuses its stored (or pending) render; a failed render is asked
    again only with ``retry``, since the same document would most likely fail the same way.
    A returned preview that is ``ready`` is therefore the issue as it is now.
    """
    document = issue_document(issue, draft=True)
    with transaction.atomic():
        preview, created = PDFPreview.objects.select_for_update().get_or_create(
            issue=issue, defaults={"content_hash": document.content_hash}
        )
        if not created and preview.content_hash == document.content_hash:
            if preview.state in (PreviewState.REQUESTED, PreviewState.RENDERING):
                return preview
            if preview.state == PreviewState.READY and preview.file and preview.file.storage.exists(preview.file.name):
                return preview
            if preview.state == PreviewState.FAILED and not retry:
                return preview
        if not created:
            preview.content_hash = document.content_hash
            preview.state, preview.error, preview.attempts = PreviewState.REQUESTED, "", 0
            preview.requested_at, preview.started_at, preview.finished_at = timezone.now(), None, None
            preview.save()
        transaction.on_commit(lambda: queue_render(preview.pk))
    return preview


# Looked up by name: the task module builds on this one, so this one cannot import it.
RENDER_PREVIEW_TASK = "digest.tasks.render_pdf_preview"


def queue_render(preview_id):
    """Ask a worker to render the preview. A broker outage only delays it: the beat queues it."""
    try:
        current_app.tasks[RENDER_PREVIEW_TASK].delay(preview_id)
    except Exception:  # any broker failure: the database still holds the request
        logger.warning("Could not queue PDF preview %s; the beat will queue it.", preview_id, exc_info=True)


def render_preview(preview_id):
    """Render and store a requested preview; return False when there was nothing to do.

    A render error is recorded on the row and shown to staff. Anything else (a storage
    error, a killed process) leaves the row ``rendering``, which the beat retries.
    """
    with transaction.atomic():
        preview = (
            PDFPreview.objects.select_for_update(skip_locked=True)
            .filter(pk=preview_id, state=PreviewState.REQUESTED)
            .select_related("issue")
            .first()
        )
        if preview is None:
            return False  # done, taken by another worker, or gone
        preview.state, preview.started_at = PreviewState.RENDERING, timezone.now()
        preview.attempts += 1
        preview.save(update_fields=["state", "started_at", "attempts"])
    claimed = (preview.content_hash, preview.started_at)
    # The issue as it is now: if it changed since it was asked for, this is what staff want.
    document = issue_document(preview.issue, draft=True)
    try:
        rendered = render_document(document)
    except PDFRenderError as error:
        _finish(preview.pk, claimed, state=PreviewState.FAILED, error=str(error))
        return True
    storage = preview.file.storage
    stem = Path(edition_filename(preview.issue, draft=True)).stem
    # The full hash names the file: a draft's file name cannot be guessed without its content.
    name = preview.file.field.generate_filename(preview, f"{stem}-{document.content_hash}.pdf")
    if not storage.exists(name):
        name = storage.save(name, ContentFile(rendered.data), max_length=preview.file.field.max_length)
    _finish(
        preview.pk,
        claimed,
        state=PreviewState.READY,
        file=name,
        content_hash=document.content_hash,
        pages=rendered.pages,
        size=len(rendered.data),
    )
    return True


def _finish(preview_id, claimed, **fields):
    """Record the end of a render, unless the row was asked again for another document meanwhile."""
    with transaction.atomic():
        preview = PDFPreview.objects.select_for_update().filter(pk=preview_id).first()
        if preview is None or preview.state != PreviewState.RENDERING:
            return
        if (preview.content_hash, preview.started_at) != claimed:
            return
        previous = preview.file.name
        for field, value in fields.items():
            setattr(preview, field, value)
        preview.finished_at = timezone.now()
        preview.save()
        if previous and previous != preview.file.name:
            storage = preview.file.storage
            transaction.on_commit(lambda: storage.delete(previous))


def resume_previews():
    """Queue previews no worker took, and retry renders whose worker died; give up after MAX_ATTEMPTS.

    Called by the beat every minute. Return how many were queued.
    """
    now = timezone.now()
    queued = []
    with transaction.atomic():
        dead = PDFPreview.objects.select_for_update(skip_locked=True).filter(
            state=PreviewState.RENDERING, started_at__lt=now - stale_render_after()
        )
        for preview in dead:
            if preview.attempts >= MAX_ATTEMPTS:
                preview.state, preview.finished_at = PreviewState.FAILED, now
                preview.error = (
                    f"The render was interrupted {preview.attempts} times (a worker stopped or ran out of time)."
                )
            else:
                preview.state, preview.requested_at = PreviewState.REQUESTED, now
            preview.save(update_fields=["state", "finished_at", "error", "requested_at"])
        waiting = PDFPreview.objects.filter(state=PreviewState.REQUESTED, requested_at__lt=now - REQUEUE_AFTER)
        queued = [*waiting.values_list("pk", flat=True), *(p.pk for p in dead if p.state == PreviewState.REQUESTED)]
    for preview_id in dict.fromkeys(queued):
        queue_render(preview_id)
    return len(queued)
