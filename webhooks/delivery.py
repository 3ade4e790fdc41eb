"""Webhook deliveries: an outbox of rows written with their event, sent by workers, at least once.

The database is the source of truth, not the broker. ``queue_event`` writes one
``Delivery`` per subscribed endpoint in the transaction of the event it reports (the
core's signals are sent inside it), so a publication and its webhooks commit together,
and a publication while Redis is down loses none. After the commit a task is queued for
each; the beat (``deliver_due``, every minute) sends whatever is due that no worker took.

A worker claims a delivery by pushing its ``next_attempt_at`` past the time an attempt may
take (a lease, committed before the request), sends it through the outbound guard
(``outbound.client``: public addresses only, the address checked is the one connected to,
no redirects, timeouts, answer size capped), then records the attempt. A 2xx answer
delivers it; anything else is retried on ``WEBHOOK_RETRY_SCHEDULE`` (about a day); a
delivery that runs out of attempts fails and disables its endpoint, with the reason shown
in the admin. A worker that dies mid-request leaves the lease to expire: the beat sends it
again. The ``webhook-id`` is the delivery's, the same on every attempt: receivers drop
duplicates by it.
"""

import base64
import datetime
import json
import logging
import secrets
import time
import uuid
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from outbound.client import OutboundError, OutboundRefused
from outbound.client import request as outbound_request

from .events import EVENT_TYPES, TEST_EVENT
from .models import Attempt, Delivery, DeliveryState, Endpoint

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver"
EXCERPT_CHARACTERS = 500
# Retries sooner than this are also queued with a countdown; later ones wait for the beat.
COUNTDOWN_LIMIT_SECONDS = 600


def new_secret():
    """Return a new signing secret, as Standard Webhooks writes them: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def rotate_secret(endpoint):
    """Give ``endpoint`` a new secret and return it; the old one still signs for a grace period.

    Standard Webhooks lets a call carry several signatures, so a receiver still holding the
    old secret keeps verifying until ``WEBHOOK_SECRET_GRACE_HOURS`` have passed.
    """
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + datetime.timedelta(
            hours=settings.WEBHOOK_SECRET_GRACE_HOURS
        )
        locked.secret = new_secret()
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return locked.secret


def signing_secrets(endpoint, now=None):
    """The secrets that sign a message now: the current one, and the previous one during its grace period."""
    now = now or timezone.now()
    valid = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        valid.append(endpoint.previous_secret)
    return valid


def signed_headers(endpoint, message_id, body, now=None):
    """Return the Standard Webhooks headers of ``body``: one signature per valid secret."""
    now = now or timezone.now()
    signatures = " ".join(Webhook(secret).sign(message_id, now, body) for secret in signing_secrets(endpoint, now))
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }


# Writing the outbox ---------------------------------------------------------------------------


def _payload(event_type, data, now):
    return json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data}, ensure_ascii=False)


def _create_deliveries(endpoints, event_type, data):
    now = timezone.now()
    body = _payload(event_type, data, now)
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            endpoint=endpoint,
            event_type=event_type,
            message_id=f"msg_{uuid.uuid4().hex}",
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    )
    for delivery in deliveries:
        transaction.on_commit(partial(enqueue, delivery.pk), robust=True)
    return deliveries


def queue_event(event_type, data):
    """Record one delivery of the event to each active endpoint that chose it; return them.

    Call it inside the transaction of what the event reports: the rows commit with it.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    endpoints = [endpoint for endpoint in Endpoint.objects.filter(active=True) if event_type in endpoint.events]
    return _create_deliveries(endpoints, event_type, data)


def send_test_event(endpoint, *, by):
    """Record a test delivery to ``endpoint``, whatever events it chose; return it."""
    with transaction.atomic():
        message = f"A test event sent by {by.get_username()} from the admin."
        return _create_deliveries([endpoint], TEST_EVENT, {"message": message})[0]


def redeliver(delivery):
    """Send a delivery again from now, with the same ``webhook-id`` and body, and a fresh set of attempts."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        transaction.on_commit(partial(enqueue, delivery.pk), robust=True)


def enqueue(delivery_id, countdown=None):
    """Ask a worker to send the delivery. A broker outage only delays it: the beat sends it."""
    try:
        current_app.tasks[DELIVER_TASK].apply_async((delivery_id,), countdown=countdown)
    except Exception:  # any broker failure: the database still holds the delivery
        logger.warning("Could not queue webhook delivery %s; the beat will send it.", delivery_id, exc_info=True)


# Sending ------------------------------------------------------------------------------------


def deliver_due(now=None):
    """Queue a task for every pending delivery that is due (the beat's minute); return how many.

    One task per delivery, not the sends themselves: a slow receiver then holds its own task,
    within its time limit, never the beat's task and the deliveries after it.
    """
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.WEBHOOK_BEAT_BATCH]
    )
    for delivery_id in due:
        enqueue(delivery_id)
    return len(due)


def _lease_seconds():
    return settings.OUTBOUND_TOTAL_TIMEOUT + 30


def _claim(delivery_id):
    """Take the delivery for one attempt if it is due and nobody holds it; return it with its endpoint."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + datetime.timedelta(seconds=_lease_seconds())
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def attempt(delivery_id):
    """Try to send the delivery once, if it is due; record how it went. Safe to call any number of times."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    started, clock = timezone.now(), time.monotonic()
    status_code, excerpt, error, permanent = None, "", "", False
    if not endpoint.active and delivery.event_type != TEST_EVENT:
        error, permanent = "The endpoint is inactive.", True
    else:
        try:
            response = outbound_request(
                endpoint.url,
                method="POST",
                headers=signed_headers(endpoint, delivery.message_id, delivery.body),
                body=delivery.body.encode(),
                require_https=settings.WEBHOOKS_REQUIRE_HTTPS,
                max_bytes=settings.WEBHOOK_RESPONSE_MAX_BYTES,
                truncate=True,  # the status decides; of the answer, only its start is kept
            )
            status_code = response.status
            excerpt = response.body[: EXCERPT_CHARACTERS * 4].decode("utf-8", "replace")[:EXCERPT_CHARACTERS]
        except OutboundRefused as refusal:
            # The address is not one we call (private, loopback, not https): no retry makes it one.
            error, permanent = str(refusal), True
        except OutboundError as failure:
            error = str(failure)
    duration_ms = int((time.monotonic() - clock) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not succeeded:
        error = f"The receiver answered {status_code}."
    return _record(delivery, started, duration_ms, status_code, succeeded, excerpt, error, permanent)


def _record(delivery, started, duration_ms, status_code, succeeded, excerpt, error, permanent):
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    # The receiver wrote these; PostgreSQL refuses a NUL in text (and the attempt would go unrecorded).
    excerpt, error = excerpt.replace("\x00", ""), error.replace("\x00", "")
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery, started_at=started, duration_ms=duration_ms, status_code=status_code,
            succeeded=succeeded, response_excerpt=excerpt, error=error,
        )  # fmt: skip
        claimed_attempts = delivery.attempts
        delivery = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
        if delivery.state != DeliveryState.PENDING or delivery.attempts != claimed_attempts:
            # Another worker took the delivery after this attempt's lease ran out, and may have
            # delivered it: the late attempt is logged, and decides nothing.
            return delivery
        if succeeded:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = (
                DeliveryState.DELIVERED, timezone.now(), None, "",
            )  # fmt: skip
        elif permanent or delivery.attempts > len(schedule):
            delivery.state, delivery.next_attempt_at, delivery.last_error = DeliveryState.FAILED, None, error
            if not permanent and delivery.event_type != TEST_EVENT:
                _disable(delivery.endpoint, delivery, error)
        else:
            delay = schedule[delivery.attempts - 1]
            delivery.next_attempt_at, delivery.last_error = timezone.now() + datetime.timedelta(seconds=delay), error
            if delay <= COUNTDOWN_LIMIT_SECONDS:
                transaction.on_commit(partial(enqueue, delivery.pk, countdown=delay), robust=True)
        delivery.save(update_fields=["state", "delivered_at", "next_attempt_at", "last_error"])
    if not succeeded:
        logger.warning("Webhook %s to %s, attempt %s: %s", delivery.message_id, delivery.endpoint.url,
                       delivery.attempts, error)  # fmt: skip
    return delivery


def _disable(endpoint, delivery, error):
    """Turn off an endpoint that failed for the whole retry schedule: the admin says why."""
    reason = (
        f"Disabled on {timezone.now():%Y-%m-%d %H:%M %Z}: delivery {delivery.message_id} failed "
        f"{delivery.attempts} times over about a day. Last error: {error}"
    )
    Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_at=timezone.now(), disabled_reason=reason
    )
    logger.error("Webhook endpoint %s disabled: %s", endpoint.url, reason)
