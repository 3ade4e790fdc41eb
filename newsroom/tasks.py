"""Celery entry points of the newsroom; names pinned (the beat uses them)."""

from celery import shared_task

from . import notifications


@shared_task(name="newsroom.tasks.send_newsroom_mail", ignore_result=True)
def send_newsroom_mail():
    """Send the newsroom's mail not sent yet (the beat runs it too, for what a dead worker left)."""
    while notifications.send_pending() == notifications.BATCH:
        pass
