"""Bounces and complaints reported by the provider's webhook (anymail's ``tracking`` signal).

A bounced or complaining subscriber is never mailed again: their status changes, and any
mailing in progress skips them at their turn.

Anymail checks the webhook's basic-auth credentials (``ANYMAIL_WEBHOOK_SECRET``) only when
they are configured: without them, anyone could post a complaint for any address. Such
reports change nothing.
"""

import logging

from django.conf import settings
from django.db import transaction

from .models import Subscriber, SubscriberStatus
from .subscriptions import _move, normalise

logger = logging.getLogger(__name__)

_STATUS_FOR_EVENT = {"bounced": SubscriberStatus.BOUNCED, "complained": SubscriberStatus.COMPLAINED}


def record_bounce_or_complaint(sender, event, esp_name, **kwargs):
    status = _STATUS_FOR_EVENT.get(event.event_type)
    if status is None or not event.recipient:
        return
    if not getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
        logger.warning("Ignored a %s report from %s: ANYMAIL_WEBHOOK_SECRET is not set.", event.event_type, esp_name)
        return
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(email=normalise(event.recipient)).first()
        if subscriber is None or subscriber.status == SubscriberStatus.COMPLAINED:
            return
        answer = event.mta_response or event.description or event.reject_reason or ""
        _move(subscriber, status, note=f"{esp_name} reported {event.event_type}: {answer}"[:500])
    logger.info("Subscriber %s marked %s (%s).", subscriber.pk, status, esp_name)
