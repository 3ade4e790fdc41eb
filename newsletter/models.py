"""Subscribers, their audit, the per-issue newsletter options, mailings and one row per recipient.

The database is the source of truth for every message: a mailing's recipients are rows
written with the mailing, each claimed, sent and marked by a worker (``sending``); a
confirmation or a data export is a ``Notice`` row sent after its request commits.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from digest.models import Issue


def new_token():
    return secrets.token_urlsafe(24)


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


class Subscriber(models.Model):
    """One address. Only ``confirmed`` subscribers are ever sent an issue."""

    email = models.EmailField(max_length=254, unique=True)
    status = models.CharField(
        max_length=20, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING, db_index=True
    )
    token = models.CharField(
        max_length=64,
        unique=True,
        default=new_token,
        editable=False,
        help_text="The secret in this subscriber's unsubscribe link.",
    )
    consent_source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where consent came from: the subscribe form, or the file and list an import named.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email


class SubscriberEvent(models.Model):
    """The audit of a subscriber's status: who or what changed it, when, and why."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=20, choices=SubscriberStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=SubscriberStatus.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class ErasedAddress(models.Model):
    """What is left of an erased subscriber: a keyed hash of the address, so it is never mailed by accident."""

    digest = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of the address (NEWSLETTER_HASH_KEY).")
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "erased addresses"

    def __str__(self):
        return f"Erased address {self.digest[:12]}…"


class NoticeKind(models.TextChoices):
    CONFIRM = "confirm", "Confirmation request"
    DATA = "data", "Data export"


class Notice(models.Model):
    """A one-off message to one address (a confirmation request, a data export): sent after it commits.

    The beat sends what a lost broker message or a dead worker left behind.
    """

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["sent_at"], name="newsletter_notice_unsent")]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.subscriber}"


class IssueNewsletter(models.Model):
    """Whether and how an issue is mailed; an issue without this row is mailed with the defaults."""

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="newsletter")
    enabled = models.BooleanField(
        "mail this issue", default=True, help_text="Send it to confirmed subscribers when it is published."
    )
    subject = models.CharField(max_length=200, blank=True, help_text="The issue's title when empty. One line.")
    preheader = models.CharField(
        max_length=200, blank=True, help_text="The line inboxes show after the subject. One line."
    )

    def __str__(self):
        return f"Newsletter options of {self.issue}"


class MailingState(models.TextChoices):
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"


class Mailing(models.Model):
    """One sending of an issue to the subscribers confirmed when it started.

    The message is rendered once, when the mailing is created; only the unsubscribe link
    differs per recipient (``UNSUBSCRIBE_PLACEHOLDER``).
    """

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="mailings")
    state = models.CharField(max_length=20, choices=MailingState.choices, default=MailingState.SENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the publication run started it.",
    )
    subject = models.CharField(max_length=200)
    preheader = models.CharField(max_length=200, blank=True)
    html = models.TextField(editable=False)
    text = models.TextField(editable=False)
    shortened = models.BooleanField(
        default=False, editable=False, help_text="The issue was too long to mail whole: each story's opening is sent."
    )
    total = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_progress_at = models.DateTimeField(default=timezone.now, help_text="When a recipient was last marked.")
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One mailing per issue, ever, unless a publisher asks for another (requested_by set).
            models.UniqueConstraint(
                fields=["issue"], condition=models.Q(requested_by__isnull=True), name="newsletter_one_automatic_mailing"
            )
        ]

    def __str__(self):
        return f"Mailing of {self.issue}"


class RecipientStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Recipient(models.Model):
    """One subscriber of one mailing: claimed (``sending``), then ``sent``, ``failed`` or ``skipped``."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="recipients")
    subscriber = models.ForeignKey(Subscriber, null=True, on_delete=models.SET_NULL, related_name="+")
    email = models.CharField(max_length=254)
    token = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=RecipientStatus.choices, default=RecipientStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True, help_text="The server's answer.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing", "subscriber"], name="newsletter_one_row_per_subscriber")
        ]
        indexes = [
            # The claim reads the pending rows of one mailing in id order.
            models.Index(
                fields=["mailing", "id"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="newsletter_recipient_open",
            )
        ]

    def __str__(self):
        return self.email
