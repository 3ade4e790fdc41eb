"""Celery entry points of the webhooks. Names are pinned: the beat and queued messages refer to them."""

from celery import shared_task

from . import delivery


@shared_task(name="webhooks.tasks.deliver", ignore_result=True)
def deliver(delivery_id):
    """Send one delivery if it is due (a message delivered twice finds it taken or done)."""
    delivery.attempt(delivery_id)


@shared_task(name="webhooks.tasks.deliver_due", ignore_result=True)
def deliver_due():
    """The beat's minute: send every delivery that is due and that no worker took."""
    delivery.deliver_due()
