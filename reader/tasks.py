"""Celery entry points of the reader site. Names are pinned: the beat refers to them."""

from celery import shared_task

from . import issue_bodies, purges


@shared_task(name="reader.tasks.retry_purges", ignore_result=True)
def retry_purges():
    """The beat's minute: try again every purge the cache refused."""
    purges.retry_pending_purges()


@shared_task(name="reader.tasks.rebuild_issue_bodies", ignore_result=True)
def rebuild_issue_bodies():
    """Build the stale issue bodies, a batch at a time (woken by each change, and by the beat)."""
    if issue_bodies.rebuild_stale():
        rebuild_issue_bodies.delay()
