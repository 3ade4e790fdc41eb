"""Subscribers' state changes: subscribe, confirm, unsubscribe, resubscribe, data export, erasure, import.

Every change goes through ``_move`` (status, audit row). Mail to one address (a
confirmation request, a data export) is a ``Notice`` row written with its cause and sent
after the commit (``send_notice``); the beat sends what was missed.

Double opt-in: nothing but a confirmation request is sent to an address until it is
confirmed through the signed, expiring link of that request. ``subscribe`` returns nothing
and does the same work for every address, so its caller cannot tell a new address from a
known one (no enumeration).
"""

import csv
import datetime
import hashlib
import hmac
import io
import json
import logging
import re
from functools import partial

from celery import current_app
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .message import site_url, unsubscribe_url
from .models import (
    ErasedAddress,
    Notice,
    NoticeKind,
    Recipient,
    RecipientStatus,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
)

logger = logging.getLogger(__name__)

SEND_NOTICES_TASK = "newsletter.tasks.send_notices"
CONFIRM_SALT = "newsletter.confirm"
# Bounds on an imported file: enough for any list a publisher brings, cheap to check first.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
CONSENT_YES = {"yes", "y", "true", "1", "consented"}
CONSENT_NO = {"", "no", "n", "false", "0"}
# What ``Subscriber.token`` holds (``secrets.token_urlsafe``): anything else is no token, and is
# not sent to the database (PostgreSQL refuses a NUL in a query with an error, not an answer).
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvalidLink(Exception):
    """A confirmation link that is forged, expired, or for an address no longer waiting for it."""


class ImportError_(ValueError):
    """A CSV file that cannot be imported; the message names the line. Nothing was imported."""


def normalise(email):
    """The form an address is stored and compared in: trimmed, lower case."""
    return email.strip().lower()


def address_digest(email):
    """The keyed hash an erased address is remembered by (HMAC-SHA256 with ``NEWSLETTER_HASH_KEY``)."""
    key = settings.NEWSLETTER_HASH_KEY.encode()
    return hmac.new(key, normalise(email).encode(), hashlib.sha256).hexdigest()


def is_erased(email):
    return ErasedAddress.objects.filter(digest=address_digest(email)).exists()


def _move(subscriber, to_status, *, by=None, note=""):
    """Change the subscriber's status and write the audit row; nothing when it is already there."""
    from_status = subscriber.status if subscriber.pk else ""
    if from_status == to_status:
        return
    subscriber.status = to_status
    if to_status == SubscriberStatus.CONFIRMED:
        subscriber.confirmed_at = timezone.now()
    subscriber.save()
    SubscriberEvent.objects.create(
        subscriber=subscriber, actor=by, from_status=from_status, to_status=to_status, note=note[:500]
    )


def _recent_notices(subscriber, kind):
    since = timezone.now() - datetime.timedelta(days=1)
    return subscriber.notices.filter(kind=kind, created_at__gte=since).count()


def _queue_notice(subscriber, kind):
    """Record a notice for the subscriber unless they had too many today; send it after the commit."""
    if _recent_notices(subscriber, kind) >= settings.NEWSLETTER_NOTICES_PER_DAY:
        logger.info("Subscriber %s had enough %s notices today.", subscriber.pk, kind)
        return None
    notice = Notice.objects.create(subscriber=subscriber, kind=kind)
    transaction.on_commit(partial(enqueue_notices, notice.pk))
    return notice


def enqueue_notices(notice_id=None):
    try:
        current_app.tasks[SEND_NOTICES_TASK].delay(notice_id)
    except Exception:  # a broker outage: the beat sends it
        logger.warning("Could not queue notice %s; the next beat will.", notice_id, exc_info=True)


# Readers ------------------------------------------------------------------------------------


def subscribe(*, email, source="the subscribe form"):
    """Ask for a subscription: a confirmation request goes to the address if it may be sent one.

    A new address is recorded pending; a pending or unsubscribed one is sent a new request
    (a few a day at most); a confirmed, bounced or complained one is sent nothing. Returns
    None whatever happened, so that no caller can tell which.
    """
    email = normalise(email)
    validate_email(email)
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
        if subscriber is None:
            subscriber = Subscriber(email=email, consent_source=f"Subscribed through {source}"[:200])
            _move(subscriber, SubscriberStatus.PENDING, note=f"Subscribed through {source}")
        if subscriber.status in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
            _queue_notice(subscriber, NoticeKind.CONFIRM)
        else:
            _recent_notices(subscriber, NoticeKind.CONFIRM)  # the same queries, so the same time


def confirmation_link(subscriber):
    token = signing.dumps({"id": subscriber.pk, "email": subscriber.email}, salt=CONFIRM_SALT, compress=True)
    return site_url(reverse("newsletter:confirm", kwargs={"token": token}))


def confirm(*, token):
    """Confirm the subscription the signed link names; return the subscriber, or raise InvalidLink."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS)
    except signing.BadSignature as error:  # forged, mangled or expired
        raise InvalidLink("This confirmation link is not valid, or has expired.") from error
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=data.get("id"), email=data.get("email")).first()
        if subscriber is None:
            raise InvalidLink("This confirmation link is not valid, or has expired.")
        if subscriber.status in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
            _move(subscriber, SubscriberStatus.CONFIRMED, note="Confirmed through the link sent to the address")
        elif subscriber.status != SubscriberStatus.CONFIRMED:
            raise InvalidLink("This address cannot be subscribed again here; please write to us.")
    return subscriber


def subscriber_for_token(token):
    """The subscriber whose unsubscribe link carries ``token``, or None."""
    if not TOKEN.fullmatch(token or ""):
        return None
    return Subscriber.objects.filter(token=token).first()


def unsubscribe(*, subscriber, note="One-click unsubscribe"):
    """Stop mailing the subscriber, at once: the next batch of any mailing skips them."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status in (SubscriberStatus.CONFIRMED, SubscriberStatus.PENDING):
            _move(subscriber, SubscriberStatus.UNSUBSCRIBED, note=note)
    return subscriber


def resubscribe(*, subscriber):
    """Undo an unsubscribe from the unsubscribe page: the link came to their mailbox, which confirms it."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            _move(subscriber, SubscriberStatus.CONFIRMED, note="Resubscribed from the unsubscribe page")
    return subscriber


def request_data(*, subscriber):
    """Send the subscriber what is kept about them, by email (to the address itself, so only its owner reads it)."""
    with transaction.atomic():
        return _queue_notice(subscriber, NoticeKind.DATA)


def erase(*, subscriber, by=None):
    """Forget the subscriber: keep only the keyed hash of the address, so it is never mailed again by accident.

    The address goes from the recipients of past mailings too; their counts stay.
    """
    with transaction.atomic():
        ErasedAddress.objects.get_or_create(digest=address_digest(subscriber.email))
        rows = Recipient.objects.filter(subscriber=subscriber)
        rows.filter(status__in=[RecipientStatus.PENDING]).update(
            status=RecipientStatus.SKIPPED, last_error="The subscriber was erased."
        )
        rows.update(email="", token="", subscriber=None)
        logger.info("Subscriber %s erased%s.", subscriber.pk, f" by {by}" if by else "")
        subscriber.delete()


def subscriber_data(subscriber):
    """Everything kept about a subscriber, as the export sends it."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "consent_source": subscriber.consent_source,
        "subscribed_at": subscriber.created_at.isoformat(),
        "confirmed_at": subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else None,
        "history": [
            {"at": event.created_at.isoformat(), "from": event.from_status, "to": event.to_status, "note": event.note}
            for event in subscriber.events.order_by("created_at", "id")
        ],
        "issues_sent": [
            {"issue": title, "sent_at": sent_at.isoformat()}
            for title, sent_at in Recipient.objects.filter(subscriber=subscriber, status=RecipientStatus.SENT)
            .order_by("sent_at")
            .values_list("mailing__issue__title", "sent_at")
        ],
    }


# Sending notices ----------------------------------------------------------------------------


def notice_message(notice):
    """The confirmation request or the data export of ``notice``, ready to send."""
    subscriber = notice.subscriber
    context = {"site_name": settings.SITE_NAME, "site_url": site_url("/"), "email": subscriber.email}
    if notice.kind == NoticeKind.CONFIRM:
        days = settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS // 86400
        context.update(link=confirmation_link(subscriber), days=days)
        subject = f"Confirm your subscription to {settings.SITE_NAME}"
    else:
        data = json.dumps(subscriber_data(subscriber), indent=2, ensure_ascii=False)
        context.update(data=data, unsubscribe_url=unsubscribe_url(subscriber.token))
        subject = f"Your data at {settings.SITE_NAME}"
    body = render_to_string(f"newsletter/notice_{notice.kind}.txt", context)
    return EmailMultiAlternatives(
        subject=subject, body=body, from_email=settings.NEWSLETTER_FROM_EMAIL, to=[subscriber.email]
    )


def send_notice(notice_id):
    """Send one notice and mark it sent in the same transaction, holding its row."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscriber")
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return False  # sent, or another worker holds it
        notice.attempts += 1
        try:
            notice_message(notice).send()
        except Exception as error:  # any backend failure: kept for the beat, up to the attempts allowed
            notice.last_error = f"{type(error).__name__}: {error}"[:1000]
            notice.save(update_fields=["attempts", "last_error"])
            logger.warning("Notice %s not sent (attempt %s): %s", notice.pk, notice.attempts, error)
            return False
        notice.sent_at, notice.last_error = timezone.now(), ""
        notice.save(update_fields=["attempts", "sent_at", "last_error"])
        return True


def send_pending_notices():
    """The beat: send every notice not sent yet, still fresh and with attempts left."""
    fresh = timezone.now() - datetime.timedelta(seconds=settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS)
    pending = Notice.objects.filter(
        sent_at__isnull=True, created_at__gte=fresh, attempts__lt=settings.NEWSLETTER_MAX_ATTEMPTS
    ).values_list("pk", flat=True)
    return sum(send_notice(pk) for pk in list(pending[:1000]))


# The newsroom: status changes, import, export -------------------------------------------------


def set_status(*, subscriber, status, by, note=""):
    """A publisher's change of a subscriber's status, recorded in its audit."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        _move(subscriber, status, by=by, note=note or "Changed in the admin")
    return subscriber


def import_csv(data, *, by, source):
    """Import subscribers from CSV bytes (columns ``email`` and ``consent``); all or nothing.

    ``consent`` says whether the file records each person's consent (yes/no). Addresses with
    consent are confirmed, with ``source`` as where it came from; the others are sent a
    confirmation request. Known addresses are left as they are; erased ones are skipped.
    Returns counts by outcome; raises ImportError_ naming the line of the first bad row.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportError_(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportError_("The file is not UTF-8 text.") from error
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in fields or "consent" not in fields:
        raise ImportError_("Line 1: the file needs the columns 'email' and 'consent'.")
    reader.fieldnames = fields
    rows = []
    for line, row in enumerate(reader, start=2):
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportError_(f"More than {MAX_IMPORT_ROWS} rows: split the file.")
        email = normalise(row.get("email") or "")
        consent = (row.get("consent") or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError as error:
            raise ImportError_(f"Line {line}: {email[:80]!r} is not an email address.") from error
        if consent not in CONSENT_YES | CONSENT_NO:
            raise ImportError_(f"Line {line}: consent must be yes or no, not {consent[:20]!r}.")
        rows.append((email, consent in CONSENT_YES))
    counts = {"confirmed": 0, "asked to confirm": 0, "already known": 0, "erased, skipped": 0}
    source = source.strip()[:150] or "an import"
    with transaction.atomic():
        known = set(Subscriber.objects.filter(email__in=[email for email, _ in rows]).values_list("email", flat=True))
        erased = set(
            ErasedAddress.objects.filter(digest__in=[address_digest(e) for e, _ in rows]).values_list(
                "digest", flat=True
            )
        )
        for email, consented in dict(rows).items():
            if email in known:
                counts["already known"] += 1
                continue
            if address_digest(email) in erased:
                counts["erased, skipped"] += 1
                continue
            subscriber = Subscriber(
                email=email, consent_source=f"Import: {source}" + (" (consent in file)" if consented else "")
            )
            if consented:
                _move(subscriber, SubscriberStatus.CONFIRMED, by=by, note=f"Imported with consent from {source}")
                counts["confirmed"] += 1
            else:
                _move(subscriber, SubscriberStatus.PENDING, by=by, note=f"Imported without consent from {source}")
                _queue_notice(subscriber, NoticeKind.CONFIRM)
                counts["asked to confirm"] += 1
    return counts


def export_csv(queryset):
    """The subscribers of ``queryset`` as CSV text (email, status, consent source, dates)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "status", "consent_source", "created_at", "confirmed_at"])
    for sub in queryset.order_by("email").iterator(chunk_size=2000):
        writer.writerow([
            _csv_safe(sub.email), sub.status, _csv_safe(sub.consent_source), sub.created_at.isoformat(),
            sub.confirmed_at.isoformat() if sub.confirmed_at else "",
        ])  # fmt: skip
    return out.getvalue()


def _csv_safe(value):
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
