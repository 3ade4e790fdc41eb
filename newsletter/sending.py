"""Mailings: created by the publication run, sent by workers that may die at any moment.

A mailing is one row, its recipients one row each (written in one statement from the
subscribers confirmed at that moment). A worker claims a batch of recipients
(``SELECT … FOR UPDATE SKIP LOCKED``, then ``sending`` with the claim time), opens one
connection for the batch, and for each recipient sends the message, then marks the row
``sent`` in its own commit. So two workers never claim the same recipient, and a worker
killed at any moment leaves rows that are either marked, or ``sending``: the beat puts a
claim older than ``NEWSLETTER_CLAIM_TIMEOUT_SECONDS`` (longer than a task may live) back
to pending and a worker sends it.

The one window that remains: a message the server accepted in the instant before the
worker died, before its row was marked ``sent``. That recipient gets the issue twice. A
worker sends one message at a time, so it is at most one message per worker process
killed (README, "Newsletter").

Temporary failures (the server unreachable, 4xx, 421/451, a provider's 429 or 5xx) put the
recipient back with a backoff, up to ``NEWSLETTER_MAX_ATTEMPTS``; a failure of the
connection also stops the batch, whose untried rows go back unchanged. Permanent ones (5xx
for an address, an address the provider refuses) mark the recipient failed with the
server's answer. The database is the source of truth, not the broker: the beat
(``resume_mailings``) re-queues every mailing with work left, so a lost message or a Redis
outage delays a mailing but never loses it.
"""

import datetime
import functools
import logging
import smtplib
import time
from dataclasses import dataclass
from email.header import Header
from functools import partial

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from digest.models import IssueState

from .message import personalise, render_issue_message, unsubscribe_url
from .mime import PreparedMessage
from .models import (
    IssueNewsletter,
    Mailing,
    MailingState,
    Recipient,
    RecipientStatus,
    SubscriberStatus,
)
from .signals import mailing_finished

logger = logging.getLogger(__name__)

SEND_MAILING_TASK = "newsletter.tasks.send_mailing"


class MailingNotAllowed(Exception):
    """The mailing cannot do that in its state (pause a completed mailing, resume a cancelled one)."""


# Starting ---------------------------------------------------------------------------------


def options_for(issue):
    """The issue's newsletter options: its row, or the defaults (mailed, the title as subject)."""
    return IssueNewsletter.objects.filter(issue=issue).first() or IssueNewsletter(issue=issue)


def publication_step(run, issue):
    """The publication run's step: mail the issue, unless it is switched off or was mailed before."""
    if options_for(issue).enabled:
        start_mailing(issue=issue)


def start_mailing(*, issue, by=None):
    """Create the issue's mailing to every confirmed subscriber now, and queue it; return it.

    Without ``by`` (the publication run) the issue is mailed once ever: a mailing that exists
    already is returned, not repeated. With ``by`` a publisher asks for another mailing,
    explicitly (a withdrawn and republished issue, say).
    """
    if by is not None and not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may send an issue to subscribers.")
    if issue.state != IssueState.PUBLISHED:
        raise MailingNotAllowed(f"Issue #{issue.number} is not published: it cannot be mailed.")
    with transaction.atomic():
        if by is None:
            existing = Mailing.objects.filter(issue=issue, requested_by__isnull=True).first()
            if existing is not None:
                return existing
        rendered = _render(issue)
        try:
            with transaction.atomic():
                mailing = Mailing.objects.create(
                    issue=issue,
                    requested_by=by,
                    subject=rendered.subject,
                    preheader=rendered.preheader,
                    html=rendered.html,
                    text=rendered.text,
                    shortened=rendered.shortened,
                )
        except IntegrityError:  # another run created it between our check and insert
            return Mailing.objects.get(issue=issue, requested_by__isnull=True)
        mailing.total = _add_recipients(mailing)
        mailing.save(update_fields=["total"])
        transaction.on_commit(partial(enqueue_all_senders, mailing.pk))
    logger.info("Mailing %s of issue #%s: %s recipients.", mailing.pk, issue.number, mailing.total)
    return mailing


def _render(issue):
    options = options_for(issue)
    # One line each, whatever was typed: a header never carries a line break (no header injection).
    subject = " ".join((options.subject or issue.title).split())
    return render_issue_message(issue, subject=subject, preheader=" ".join(options.preheader.split()))


def _add_recipients(mailing):
    """One row per confirmed subscriber, in one statement whatever their number; return the count."""
    recipient, subscriber = Recipient._meta.db_table, "newsletter_subscriber"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {recipient} (mailing_id, subscriber_id, email, token, status, attempts, last_error) "  # noqa: S608 - table names are ours
            f"SELECT %s, id, email, token, %s, 0, '' FROM {subscriber} WHERE status = %s ORDER BY id",
            [mailing.pk, RecipientStatus.PENDING, SubscriberStatus.CONFIRMED],
        )
        return cursor.rowcount


def enqueue_mailing(mailing_id, countdown=None, *, tasks=1):
    """Ask ``tasks`` workers to send the mailing. A broker outage only delays it: the beat re-queues it.

    Several tasks send one mailing side by side (``NEWSLETTER_PARALLEL_SENDS``): their claims
    never overlap.
    """
    try:
        for _ in range(tasks):
            current_app.tasks[SEND_MAILING_TASK].apply_async((mailing_id,), countdown=countdown)
    except Exception:  # any broker failure: the database still holds the mailing
        logger.warning("Could not queue mailing %s; the next beat will.", mailing_id, exc_info=True)


def enqueue_all_senders(mailing_id):
    enqueue_mailing(mailing_id, tasks=settings.NEWSLETTER_PARALLEL_SENDS)


# Sending ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    temporary: bool  # worth another try later
    connection_failed: bool  # the server or the connection, not this address: stop the batch
    answer: str


def classify(error):
    """Tell a temporary failure from a permanent one, and the server's answer, from any backend's error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(error.recipients.values()))
        answer = f"{code} {_decode(message)}"
        return Outcome(400 <= code < 500, code == 421, answer)
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError | smtplib.SMTPHeloError):
        # Not this address: the server refuses the sender or the login. Kept for a retry and
        # shown in the admin rather than failing every recipient in turn.
        return Outcome(True, True, f"{error.smtp_code} {_decode(error.smtp_error)}")
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        return Outcome(400 <= code < 500, code == 421, f"{code} {_decode(error.smtp_error)}")
    if isinstance(error, AnymailRecipientsRefused):
        return Outcome(False, False, str(error)[:1000])
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        temporary = status is None or status == 429 or status >= 500
        return Outcome(temporary, temporary, f"{status or 'no answer'}: {str(error)[:900]}")
    if isinstance(error, smtplib.SMTPException | OSError):  # disconnected, refused, timed out
        return Outcome(True, True, f"{type(error).__name__}: {error}")
    if isinstance(error, ValueError):  # a message Django refuses to build (a bad header)
        return Outcome(False, False, f"{type(error).__name__}: {error}")
    return Outcome(True, True, f"{type(error).__name__}: {error}")


def _decode(message):
    return message.decode(errors="replace") if isinstance(message, bytes) else str(message)


@functools.lru_cache(maxsize=16)
def encoded_subject(subject):
    """The subject as RFC 2047 encoded words, computed once per mailing rather than once per message.

    Encoding a non-ASCII header was most of the cost of building a message (``make bench``).
    Encoded words are ASCII, on one line, so Django passes them through as they are.
    """
    if subject.isascii():
        return subject
    return Header(subject, "utf-8").encode(linesep=" ")


def build_message(mailing, email, token, *, connection=None):
    """The message of ``mailing`` for one recipient: the rendered parts, their unsubscribe link and headers."""
    html_body, text_body = personalise(mailing, token)
    link = unsubscribe_url(token)
    message = EmailMultiAlternatives(
        subject=encoded_subject(mailing.subject),
        body=text_body,
        from_email=settings.NEWSLETTER_FROM_EMAIL,
        to=[email],
        connection=connection,
        headers={
            # RFC 8058: mail clients offer "Unsubscribe" and POST to the link; no mailto (no inbound mail).
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{settings.SITE_NAME} <{settings.NEWSLETTER_LIST_ID}>",
            "Precedence": "bulk",
            **({"Reply-To": settings.NEWSLETTER_REPLY_TO} if settings.NEWSLETTER_REPLY_TO else {}),
        },
    )
    message.attach_alternative(html_body, "text/html")
    return message


def claim_batch(mailing_id, size):
    """Claim up to ``size`` recipients due now (``sending``, with the time); return (id, email, token) each.

    Rows of subscribers no longer confirmed (unsubscribed, bounced, erased since the mailing
    started) are marked skipped on the way. Nothing is claimed unless the mailing is sending.
    """
    now = timezone.now()
    with transaction.atomic():
        if not Mailing.objects.filter(pk=mailing_id, state=MailingState.SENDING).exists():
            return []
        rows = list(
            Recipient.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(mailing_id=mailing_id, status=RecipientStatus.PENDING)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .order_by("id")
            .values_list("id", "email", "token", "subscriber__status")[:size]
        )
        skipped = [pk for pk, _, _, status in rows if status != SubscriberStatus.CONFIRMED]
        claimed = [(pk, email, token) for pk, email, token, status in rows if status == SubscriberStatus.CONFIRMED]
        if skipped:
            Recipient.objects.filter(pk__in=skipped).update(
                status=RecipientStatus.SKIPPED, last_error="No longer subscribed when its turn came."
            )
        if claimed:
            Recipient.objects.filter(pk__in=[pk for pk, _, _ in claimed]).update(
                status=RecipientStatus.SENDING, claimed_at=now
            )
    return claimed


class _Pacer:
    """At most ``rate`` messages a second from this worker (0: as fast as the server takes them)."""

    def __init__(self, rate):
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = time.monotonic()

    def wait(self):
        if self.interval:
            delay = self.next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.next_at = max(self.next_at, time.monotonic()) + self.interval


def send_batch(mailing, claimed, *, pacer=None):
    """Send the claimed recipients over one connection, marking each as soon as the server answered.

    Returns False when the connection failed (the batch stopped; untried rows went back).
    """
    pacer = pacer or _Pacer(settings.NEWSLETTER_MESSAGES_PER_SECOND)
    mail_connection = get_connection()
    prepared = {}  # by the length of a token: the message serialised once (SMTP only)
    remaining, marked = list(claimed), 0
    _asynchronous_commits(True)
    try:
        while remaining:
            recipient_id, email, token = remaining[0]
            pacer.wait()
            try:
                # Opened once, at the first message (a failure to connect is that message's):
                # send_messages on a closed connection would open and close one per message.
                mail_connection.open()
                _send_one(mailing, email, token, mail_connection, prepared)
            except Exception as error:  # any backend's failure: classified, recorded, never lost
                outcome = classify(error)
                _record_failure(recipient_id, outcome)
                remaining.pop(0)
                marked += not outcome.temporary
                if outcome.connection_failed:
                    _release(remaining, outcome)
                    return False
            else:
                _mark_sent(recipient_id)
                remaining.pop(0)
                marked += 1
    finally:
        try:
            mail_connection.close()
        except Exception:  # a connection already gone: nothing to close
            logger.debug("Closing the mail connection failed", exc_info=True)
        _asynchronous_commits(False)
        if marked:  # a batch that only met temporary failures is no progress: it may show as stalled
            Mailing.objects.filter(pk=mailing.pk).update(last_progress_at=timezone.now())
    return True


def _send_one(mailing, email, token, mail_connection, prepared):
    """Send the recipient's message: its prepared bytes over SMTP, else built by Django for any backend."""
    raw = None
    if isinstance(mail_connection, SmtpBackend) and mail_connection.connection is not None:
        if len(token) not in prepared:
            try:
                prepared[len(token)] = PreparedMessage(mailing, build_message, token_length=len(token))
            except ValueError:  # no prepared form for this mailing: Django builds each message
                prepared[len(token)] = None
        if prepared[len(token)] is not None:
            raw = prepared[len(token)].message_for(email, token)
    if raw is None:
        mail_connection.send_messages([build_message(mailing, email, token, connection=mail_connection)])
        return
    # What Django's SMTP backend does with the message it built, with the bytes prepared.
    recipient = sanitize_address(email, settings.DEFAULT_CHARSET)
    mail_connection.connection.sendmail(prepared[len(token)].from_address, [recipient], raw)


def _mark_sent(recipient_id):
    """Mark the recipient sent, in its own commit, as soon as the server accepted the message.

    One fixed statement rather than a queryset's ``update``: compiling the query was a third
    of the worker's CPU per message once the message was prepared (``make bench``).
    """
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SENT, [connection.ops.adapt_datetimefield_value(timezone.now()), recipient_id])


_MARK_SENT = (
    f"UPDATE {Recipient._meta.db_table} SET status = '{RecipientStatus.SENT.value}', sent_at = %s, "  # noqa: S608 - ours
    f"last_error = '', retry_at = NULL WHERE id = %s AND status = '{RecipientStatus.SENDING.value}'"
)


def _asynchronous_commits(on):
    """Let PostgreSQL acknowledge this session's marks before they reach the disk, or stop.

    A flush to disk per message cost 10 ms here, more than the rest of sending it
    (``make bench``). A worker killed at any moment loses nothing by it: the database holds
    what it acknowledged. Only a crash of PostgreSQL itself may lose the last moment of
    marks (up to three ``wal_writer_delay``, 0.6 s by default), whose recipients are then sent
    again (README, "Newsletter").
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF" if on else "RESET synchronous_commit")


def _record_failure(recipient_id, outcome):
    recipient = Recipient.objects.only("attempts").get(pk=recipient_id)
    attempts = recipient.attempts + 1
    if outcome.temporary and attempts < settings.NEWSLETTER_MAX_ATTEMPTS:
        status, retry_at = RecipientStatus.PENDING, timezone.now() + retry_delay(attempts)
    else:
        status, retry_at = RecipientStatus.FAILED, None
    Recipient.objects.filter(pk=recipient_id).update(
        status=status, attempts=attempts, retry_at=retry_at, last_error=outcome.answer[:1000]
    )
    logger.warning("Recipient %s: %s (attempt %s, %s).", recipient_id, outcome.answer, attempts, status)


def _release(remaining, outcome):
    """Put the untried rows of a failed batch back, to wait as long as the one that failed."""
    if remaining:
        Recipient.objects.filter(pk__in=[pk for pk, _, _ in remaining], status=RecipientStatus.SENDING).update(
            status=RecipientStatus.PENDING, retry_at=timezone.now() + retry_delay(1)
        )


def retry_delay(attempts):
    """Exponential backoff with a cap: base, 2×base, 4×base…"""
    seconds = settings.NEWSLETTER_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.NEWSLETTER_RETRY_BACKOFF_MAX_SECONDS))


def send_mailing(mailing_id, *, budget_seconds=None):
    """Send batches of the mailing until none is due or the time budget is spent.

    Returns when to come back (a datetime, now when the budget ran out), or None when there
    is nothing left to send, or the mailing is not sending.
    """
    budget = settings.NEWSLETTER_TASK_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    pacer = _Pacer(settings.NEWSLETTER_MESSAGES_PER_SECOND)
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None:
        return None
    while time.monotonic() < deadline:
        claimed = claim_batch(mailing_id, settings.NEWSLETTER_BATCH_SIZE)
        if not claimed:
            break
        if not send_batch(mailing, claimed, pacer=pacer):
            break  # the connection failed: the rows wait for their backoff
    else:
        return timezone.now()
    return finish_if_done(mailing_id)


def finish_if_done(mailing_id):
    """Mark the mailing completed if no recipient is left to try; else return when the next one is due."""
    with transaction.atomic():
        open_rows = Recipient.objects.filter(
            mailing_id=mailing_id, status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING]
        ).aggregate(count=Count("id"), next_retry=Min("retry_at", filter=Q(status=RecipientStatus.PENDING)))
        if open_rows["count"]:
            return open_rows["next_retry"]  # None: rows claimed by another worker, which will finish
        finished = Mailing.objects.select_for_update().filter(pk=mailing_id, state=MailingState.SENDING).first()
        if finished is None:
            return None
        finished.state, finished.finished_at = MailingState.COMPLETED, timezone.now()
        finished.save(update_fields=["state", "finished_at"])
        logger.info("Mailing %s completed.", mailing_id)
        mailing_finished.send(sender=Mailing, mailing=finished)
    return None


def resume_mailings(*, now=None, enqueue=True):
    """The beat's minute: free claims a dead worker left, finish what is done, queue what was forgotten.

    A mailing is queued only when no send task can be alive for it: its due rows have waited
    longer than a task runs before queueing its follow-up (``NEWSLETTER_TASK_SECONDS``). So
    the beat revives a mailing whose message was lost, never multiplies the tasks of one
    that is sending or backing off. Returns the ids of the mailings queued.
    """
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.NEWSLETTER_CLAIM_TIMEOUT_SECONDS)
    freed = Recipient.objects.filter(
        status=RecipientStatus.SENDING, claimed_at__lt=stale, mailing__state=MailingState.SENDING
    ).update(status=RecipientStatus.PENDING)
    if freed:
        logger.warning("Freed %s recipients a dead worker had claimed.", freed)
    quiet_since = now - datetime.timedelta(seconds=settings.NEWSLETTER_TASK_SECONDS)
    queued = []
    for mailing in Mailing.objects.filter(state=MailingState.SENDING).only("pk", "last_progress_at"):
        overdue = Q(retry_at__lte=quiet_since)
        if mailing.last_progress_at < quiet_since:
            overdue |= Q(retry_at__isnull=True)  # never tried, and nobody has sent for a while
        if Recipient.objects.filter(overdue, mailing_id=mailing.pk, status=RecipientStatus.PENDING).exists():
            queued.append(mailing.pk)
            if enqueue:
                enqueue_all_senders(mailing.pk)
        else:
            finish_if_done(mailing.pk)
    return queued


# Pause, resume, cancel ----------------------------------------------------------------------


def _locked_mailing(mailing, by):
    if by is not None and not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may pause, resume or cancel a mailing.")
    return Mailing.objects.select_for_update().get(pk=mailing.pk)


def pause(*, mailing, by):
    """Stop handing out recipients; a batch already claimed finishes its current message and stops."""
    with transaction.atomic():
        mailing = _locked_mailing(mailing, by)
        if mailing.state != MailingState.SENDING:
            raise MailingNotAllowed(f"Only a sending mailing can be paused; this one is {mailing.state}.")
        mailing.state = MailingState.PAUSED
        mailing.save(update_fields=["state"])
    return mailing


def resume(*, mailing, by):
    with transaction.atomic():
        mailing = _locked_mailing(mailing, by)
        if mailing.state != MailingState.PAUSED:
            raise MailingNotAllowed(f"Only a paused mailing can be resumed; this one is {mailing.state}.")
        mailing.state, mailing.last_progress_at = MailingState.SENDING, timezone.now()
        mailing.save(update_fields=["state", "last_progress_at"])
        transaction.on_commit(partial(enqueue_all_senders, mailing.pk))
    return mailing


def cancel(*, mailing, by, reason="Cancelled by a publisher."):
    """Send no more: every recipient not yet tried is skipped. Messages already sent stay sent."""
    with transaction.atomic():
        mailing = _locked_mailing(mailing, by)
        if mailing.state not in (MailingState.SENDING, MailingState.PAUSED):
            raise MailingNotAllowed(f"Only a sending or paused mailing can be cancelled; this one is {mailing.state}.")
        mailing.recipients.filter(status=RecipientStatus.PENDING).update(
            status=RecipientStatus.SKIPPED, last_error=reason
        )
        mailing.state, mailing.finished_at, mailing.last_error = MailingState.CANCELLED, timezone.now(), reason
        mailing.save(update_fields=["state", "finished_at", "last_error"])
    return mailing


def stop_mailings_on_withdrawal(sender, *, issue, name, **kwargs):
    """A withdrawn issue is not mailed any further (``digest.signals.issue_transitioned``)."""
    if name != "withdraw":
        return
    for mailing in Mailing.objects.filter(issue=issue, state__in=[MailingState.SENDING, MailingState.PAUSED]):
        cancel(mailing=mailing, by=None, reason="Cancelled: the issue was withdrawn.")


# Progress, for the admin and the publishing report -------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    skipped: int
    pending: int
    rate: float  # messages a second over the last minute
    seconds_left: float | None
    stalled: bool

    @property
    def done_percent(self):
        return round(100 * (self.sent + self.failed + self.skipped) / self.total) if self.total else 100


def progress(mailing, *, now=None):
    """Counts by status, the recent rate, the time left, and whether the mailing stopped moving."""
    now = now or timezone.now()
    minute_ago = now - datetime.timedelta(seconds=60)
    counts = Recipient.objects.filter(mailing=mailing).aggregate(
        sent=Count("id", filter=Q(status=RecipientStatus.SENT)),
        failed=Count("id", filter=Q(status=RecipientStatus.FAILED)),
        skipped=Count("id", filter=Q(status=RecipientStatus.SKIPPED)),
        pending=Count("id", filter=Q(status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING])),
        recent=Count("id", filter=Q(status=RecipientStatus.SENT, sent_at__gte=minute_ago)),
        first_sent=Min("sent_at"),
    )
    window = 60.0
    if counts["first_sent"] and counts["first_sent"] > minute_ago:
        window = max((now - counts["first_sent"]).total_seconds(), 1.0)
    rate = counts["recent"] / window
    stalled = is_stalled(mailing, pending=counts["pending"], now=now)
    return Progress(
        total=mailing.total,
        sent=counts["sent"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        pending=counts["pending"],
        rate=rate,
        seconds_left=counts["pending"] / rate if rate else None,
        stalled=stalled,
    )


def is_stalled(mailing, *, pending, now=None):
    """A sending mailing with recipients left and none marked for ``NEWSLETTER_STALLED_AFTER_SECONDS``."""
    quiet = ((now or timezone.now()) - mailing.last_progress_at).total_seconds()
    return mailing.state == MailingState.SENDING and pending > 0 and quiet > settings.NEWSLETTER_STALLED_AFTER_SECONDS


def with_counts(mailings):
    """Annotate each mailing with its recipients sent, pending (or being sent) and failed."""
    return mailings.annotate(
        sent_count=Count("recipients", filter=Q(recipients__status=RecipientStatus.SENT)),
        pending_count=Count(
            "recipients", filter=Q(recipients__status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING])
        ),
        failed_count=Count("recipients", filter=Q(recipients__status=RecipientStatus.FAILED)),
    )


# A test send ----------------------------------------------------------------------------------

# The unsubscribe token of a test send: its links lead to a page that says what readers get.
TEST_SEND_TOKEN = "test-send"  # noqa: S105 - a public placeholder, not a secret


def send_test(*, issue, by):
    """Send the issue's message, as subscribers would get it, to the publisher's own address, now.

    Any issue, in any state: it is a preview. Raises MailingNotAllowed without an address.
    """
    if not by.has_perm("digest.publish_issue"):
        raise PermissionDenied("Only publishers may send a test of the newsletter.")
    if not by.email:
        raise MailingNotAllowed("Your account has no email address: add one to receive a test.")
    rendered = _render(issue)
    test = Mailing(issue=issue, subject=f"[Test] {rendered.subject}", html=rendered.html, text=rendered.text)
    message = build_message(test, by.email, TEST_SEND_TOKEN)
    message.send()
    return rendered
