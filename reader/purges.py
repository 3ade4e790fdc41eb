"""Purges by key: recorded with the change that makes pages stale, carried out after it commits.

The database is the source of truth, not the cache: ``queue_purge`` writes a ``PagePurge``
row in the transaction of the change, so the purge commits with its cause or not at all.
It is tried right after the commit, and the beat (``reader.tasks.retry_purges``) tries
every row still there each minute until the cache answers; a row is deleted once purged.
A cache outage delays a purge but never loses it, and never fails the change.

``purge_keys`` is the one place a purge is carried out: the page cache, then the front
cache (Varnish's xkey, ``reader.front_cache``). A row is done when both have it: a front
cache that does not answer keeps it, with the error, for the beat and the admin.
"""

import logging
from functools import partial

from django.db import transaction

from . import figures, front_cache, issue_bodies, page_cache
from .models import PagePurge

logger = logging.getLogger(__name__)


def purge_keys(keys):
    """Drop now everything cached under any of ``keys``; raise if a cache cannot be reached.

    The page cache first: the front cache refetches a purged page through it.
    """
    page_cache.purge(keys)
    front_cache.purger().purge(keys)


def queue_purge(keys):
    """Record that the pages filed under ``keys`` are stale; purge them once the change commits.

    Call it inside the transaction that makes them stale: the row commits with the change,
    is tried right after the commit, then by the beat until it succeeds. A cache outage is
    logged, never raised into the caller. The stored issue bodies filed under the same keys
    are marked stale in the same transaction (``issue_bodies.mark_stale``); the stored
    figures by each attempt, once the change has committed (``figures``).
    """
    keys = sorted(set(keys))
    if not keys:
        return None
    purge = PagePurge.objects.create(keys=keys)
    issue_bodies.mark_stale(keys)  # the stored issue bodies that show the same things
    transaction.on_commit(partial(_attempt_purge, purge.pk), robust=True)
    return purge


def retry_pending_purges():
    """Try every purge still pending (the beat's minute); return how many are still pending."""
    for purge_id in PagePurge.objects.values_list("pk", flat=True):
        _attempt_purge(purge_id)
    return PagePurge.objects.count()


def _attempt_purge(purge_id):
    keys = PagePurge.objects.filter(pk=purge_id).values_list("keys", flat=True).first()
    if keys is None:
        return  # done by another process
    # The counts the pages show (a company's coverage, the search's years), committed on their
    # own before any cache is called: a cache outage must not hold their rows.
    figures.mark_stale(keys)
    with transaction.atomic():
        # Another process trying the same purge may have it: that one will do.
        purge = PagePurge.objects.select_for_update(skip_locked=True).filter(pk=purge_id).first()
        if purge is None:
            return
        try:
            purge_keys(purge.keys)
        except Exception as error:  # any cache failure: the row stays for the next try
            purge.record_failure(error)
            logger.warning("Could not purge %s keys (attempt %s): %s", len(purge.keys), purge.attempts, error)
        else:
            purge.delete()
