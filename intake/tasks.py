"""Celery entry points of the intake. Names are pinned: the beat refers to them."""

from celery import shared_task
from django.db import transaction

from . import fetching


@shared_task(name="intake.tasks.fetch_due_feeds", ignore_result=True)
def fetch_due_feeds():
    """The beat's minute: claim every feed that is due and queue one fetch for each."""
    for feed_id in fetching.claim_due_feeds():
        fetch_feed.delay(feed_id)


@shared_task(name="intake.tasks.fetch_feed", ignore_result=True)
def fetch_feed(feed_id):
    """Fetch one feed. Failures are recorded on the feed, not retried here: the feed's next fetch is its retry."""
    fetching.fetch_feed(feed_id)


def fetch_now(feed_ids):
    """Queue these feeds' fetch once the current transaction commits (an editor's "Fetch now")."""
    feed_ids = list(feed_ids)

    def queue():
        for feed_id in feed_ids:
            fetch_feed.delay(feed_id)

    transaction.on_commit(queue, robust=True)
