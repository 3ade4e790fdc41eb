from django.conf import settings
from django.db import models
from django.utils import timezone


class Endpoint(models.Model):
    """An address that receives signed calls when the events it chose happen."""

    url = models.URLField(
        "URL", max_length=2048, help_text="Where the calls are sent (POST, JSON). https in production."
    )
    description = models.CharField(max_length=200, blank=True, help_text="Who or what receives it, for editors.")
    events = models.JSONField(default=list, help_text="The event types sent to this endpoint.")
    active = models.BooleanField(
        default=True, help_text="Inactive endpoints get nothing. Endpoints failing for a day are made inactive."
    )
    # The signing secret (Standard Webhooks, "whsec_" + base64), shown once when made. After a
    # rotation the previous one still signs until ``previous_secret_expires_at``.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["url", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.description or self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one endpoint: written with the event, sent by workers until it is answered with 2xx.

    ``body`` is the exact JSON sent, and ``message_id`` the ``webhook-id`` header: the same
    on every attempt, so a receiver drops duplicates by it.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=60)
    message_id = models.CharField(max_length=40, unique=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Not tried before this time (backoff, or a worker holds it)."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The beat's look for deliveries that are due.
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="delivery_due"),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.endpoint} ({self.get_state_display().lower()})"


class Attempt(models.Model):
    """One try at a delivery, as it went: kept for the admin, to tell a receiver what happened."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True, help_text="The receiver's HTTP status.")
    succeeded = models.BooleanField(default=False)
    response_excerpt = models.TextField(blank=True, help_text="The first bytes of the answer.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.status_code or self.error[:40]} at {self.started_at:%Y-%m-%d %H:%M:%S}"
