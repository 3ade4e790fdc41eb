"""Celery entry points of the newsletter. Names are pinned: the beat and the services refer to them."""

from celery import shared_task
from django.utils import timezone

from . import sending, subscriptions


@shared_task(
    name="newsletter.tasks.send_mailing", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def send_mailing(self, mailing_id):
    """Send the mailing's due recipients for a while, then queue the follow-up when work is left."""
    next_at = sending.send_mailing(mailing_id)
    if next_at is not None:
        countdown = max((next_at - timezone.now()).total_seconds(), 0)
        if countdown and self.request.is_eager:
            return  # run in-process (tests), it cannot wait: the beat's resume_mailings takes it up
        sending.enqueue_mailing(mailing_id, countdown=countdown or None)


@shared_task(name="newsletter.tasks.resume_mailings", ignore_result=True)
def resume_mailings():
    """The beat's minute: free dead workers' claims, finish what is done, queue what has work left."""
    sending.resume_mailings()


@shared_task(name="newsletter.tasks.send_notices", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_notices(notice_id=None):
    """Send one confirmation request or data export; without an id, every one still unsent (the beat)."""
    if notice_id is None:
        subscriptions.send_pending_notices()
    else:
        subscriptions.send_notice(notice_id)
