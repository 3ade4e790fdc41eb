"""Files taken out of use are deleted from the media storage after the change commits, surely.

The media storage may be a disk or an S3-compatible bucket (``STORAGES["default"]``). A file
stops being used inside a transaction (a PDF replaced by a correction's, a withdrawn issue's
PDF) but a storage cannot take part in it, so ``discard`` writes a ``DiscardedFile`` row with
the change; the file is deleted right after the commit (a reader downloading it until then is
not cut off), and the beat (``digest.tasks.delete_discarded_files``) retries every row left
until the storage answers. A rolled-back change leaves the file in use and no row.
"""

import logging
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction

from .models import DiscardedFile

logger = logging.getLogger(__name__)


def discard(name):
    """Record that the stored file ``name`` is no longer used; delete it once the change commits."""
    discarded = DiscardedFile.objects.create(name=name)
    transaction.on_commit(partial(_attempt_delete, discarded.pk), robust=True)
    return discarded


def pdf_withdrawn(issue):
    """Discard a withdrawn issue's PDF: return the field values that forget it, to save with the withdrawal.

    The object itself is deleted, so no address handed out before (a signed URL, a cached
    redirect) serves it any more.
    """
    if not issue.pdf:
        return {}
    discard(issue.pdf.name)
    return {"pdf": "", "pdf_content_hash": "", "pdf_pages": None, "pdf_size": None, "pdf_rendered_at": None}


def delete_discarded():
    """Try every deletion still pending (the beat's minute); return how many are still pending."""
    for discarded_id in DiscardedFile.objects.values_list("pk", flat=True):
        _attempt_delete(discarded_id)
    return DiscardedFile.objects.count()


def _attempt_delete(discarded_id):
    with transaction.atomic():
        discarded = DiscardedFile.objects.select_for_update(skip_locked=True).filter(pk=discarded_id).first()
        if discarded is None:
            return  # done, or another process is on it
        try:
            default_storage.delete(discarded.name)  # a file already gone is no error
        except Exception as error:  # any storage failure: the row stays for the next try
            discarded.record_failure(error)
            logger.warning("Could not delete %s (attempt %s): %s", discarded.name, discarded.attempts, error)
        else:
            discarded.delete()
