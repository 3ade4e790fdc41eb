"""Celery entry points of the reader site. Names are pinned: the beat refers to them."""

from celery import shared_task

from . import purges


@shared_task(name="reader.tasks.retry_purges", ignore_result=True)
def retry_purges():
    """The beat's minute: try again every purge the cache refused."""
    purges.retry_pending_purges()
