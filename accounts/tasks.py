"""Celery entry points of the accounts room; names pinned (the beat uses them)."""

from celery import shared_task

from . import notices, records


@shared_task(name="accounts.tasks.send_account_notices", ignore_result=True)
def send_account_notices():
    """Mail the account changes not mailed yet (the beat runs it too, for what a dead worker left)."""
    while notices.send_pending() == notices.BATCH:
        pass


@shared_task(name="accounts.tasks.prune_sign_in_records", ignore_result=True)
def prune_sign_in_records():
    """Forget sign-ins past ``ACCOUNTS_SIGN_IN_RECORD_DAYS`` and expired sessions' rows."""
    records.prune()
