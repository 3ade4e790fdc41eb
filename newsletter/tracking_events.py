"""Bounces and complaints reported by the provider's webhook (anymail's ``tracking`` signal).

A bounced or complaining subscriber is never mailed again: their status changes, and any
mailing in progress skips them at their turn.
"""

import logging

from django.db import transaction

from .models import Subscriber, SubscriberStatus
from .subscriptions import _move, normalise

logger = logging.getLogger(__name__)

_STATUS_FOR_EVENT = {"bounced": SubscriberStatus.BOUNCED, "complained": SubscriberStatus.COMPLAINED}


def record_bounce_or_complaint(sender, event, esp_name, **kwargs):
    status = _STATUS_FOR_EVENT.get(event.event_type)
    if status is None or not event.recipient:
        return
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(email=normalise(event.recipient)).first()
        if subscriber is None or subscriber.status == SubscriberStatus.COMPLAINED:
            return
        answer = event.mta_response or event.description or event.reject_reason or ""
        _move(subscriber, status, note=f"{esp_name} reported {event.event_type}: {answer}"[:500])
    logger.info("Subscriber %s marked %s (%s).", subscriber.pk, status, esp_name)
