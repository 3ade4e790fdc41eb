"""What the accounts room keeps: staff sessions, the sign-in record, and the audit of account changes."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class StaffSession(models.Model):
    """A signed-in session of a staff user, as their Security page lists it.

    The row's id travels inside the session's own data, so it survives the session key's
    rotation (at sign-in, after a password change); ``session_key`` follows the current key,
    which is what ending the session deletes from the session store.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    signed_in_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self):
        return f"{self.user} from {self.ip_address or 'an unknown address'}"

    @property
    def browser(self):
        from .sessions import describe_browser

        return describe_browser(self.user_agent)


class SignIn(models.Model):
    """One attempt to sign in: who (as typed), from where, how it ended and with which factor."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Signed in"
        FAILED = "failed", "Failed"
        LOCKED_OUT = "locked_out", "Locked out"

    class Factor(models.TextChoices):
        PASSWORD = "password", "Password"
        TOTP = "totp", "Authenticator app"
        RECOVERY_CODE = "recovery_code", "Recovery code"
        PASSKEY = "passkey", "Passkey"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    username = models.CharField(max_length=150, blank=True, help_text="As typed; it may name no account.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sign_ins"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    factor = models.CharField(max_length=20, choices=Factor.choices, help_text="The factor used or tried last.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "sign-in"

    def __str__(self):
        return f"{self.username or '?'}: {self.get_outcome_display()} ({self.get_factor_display()})"


class AccountChange(models.Model):
    """An audited change to an account; the user is mailed about it (the row is the outbox).

    ``notice_sent_at`` stays empty until the mail went out: the beat sends what a dead
    worker or a down mail server left (``accounts.tasks.send_account_notices``).
    """

    class Action(models.TextChoices):
        PASSWORD_CHANGED = "password_changed", "Password changed"
        FACTOR_ADDED = "factor_added", "Second factor added"
        FACTOR_REMOVED = "factor_removed", "Second factor removed"
        RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated", "Recovery codes replaced"
        FACTORS_RESET = "factors_reset", "Second factors reset"
        SESSIONS_ENDED = "sessions_ended", "Sessions ended"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    notify = models.BooleanField(default=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(
                fields=["at"], name="account_notice_pending", condition=models.Q(notify=True, notice_sent_at=None)
            )
        ]

    def __str__(self):
        return f"{self.user}: {self.get_action_display()}"
