"""The audit of account changes, and the mail that tells the user about each.

The ``AccountChange`` row is written in the change's transaction and is the outbox: a worker
mails it after the commit, and the beat (``accounts.tasks.send_account_notices``) sends what a
dead worker or a mail server that did not answer left. Mails are plain text.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from outbound.mail import send_outbox

from .models import AccountChange
from .records import client_ip

logger = logging.getLogger(__name__)
BATCH = 50
MAX_ATTEMPTS = 10

WHAT_HAPPENED = {
    AccountChange.Action.PASSWORD_CHANGED: "Your password was changed.",
    AccountChange.Action.FACTOR_ADDED: "A second factor was added to your account: {detail}.",
    AccountChange.Action.FACTOR_REMOVED: "A second factor was removed from your account: {detail}.",
    AccountChange.Action.RECOVERY_CODES_REGENERATED: (
        "New recovery codes were made for your account; the old ones no longer work."
    ),
    AccountChange.Action.FACTORS_RESET: (
        "{actor} removed every second factor of your account. You will be asked to set one up again."
    ),
    AccountChange.Action.SESSIONS_ENDED: "{actor} signed your account out everywhere.",
}


def record_change(*, user, action, by=None, detail="", request=None, notify=True):
    """Audit a change to ``user``'s account; mail them about it after the commit when ``notify``."""
    change = AccountChange.objects.create(
        user=user,
        actor=by,
        action=action,
        detail=detail[:200],
        ip_address=client_ip(request) if request is not None else None,
        notify=notify and bool(user.email),
    )
    if change.notify:
        transaction.on_commit(_enqueue, robust=True)
    return change


def _enqueue():
    from .tasks import send_account_notices  # the task module imports this one

    try:
        send_account_notices.delay()
    except Exception:  # any broker failure: the row waits for the beat
        logger.warning("Could not queue account notices; the next beat will.", exc_info=True)


def pending():
    return AccountChange.objects.filter(notify=True, notice_sent_at=None, notice_attempts__lt=MAX_ATTEMPTS)


def send_pending():
    """Mail up to ``BATCH`` pending notices, one transaction each (``outbound.mail``); answer how many went."""
    return send_outbox(
        pending().select_related("user", "actor"), limit=BATCH, message=message, sent=_mark_sent, refused=_mark_refused
    )


def _mark_sent(change):
    change.notice_sent_at = timezone.now()
    change.save(update_fields=["notice_sent_at"])


def _mark_refused(change, error):
    change.notice_attempts += 1
    change.save(update_fields=["notice_attempts"])


def message(change):
    actor = change.actor.get_username() if change.actor and change.actor != change.user else "You"
    what = WHAT_HAPPENED[change.action].format(detail=change.detail, actor=actor)
    when = timezone.localtime(change.at).strftime("%Y-%m-%d %H:%M %Z")
    where = f" from {change.ip_address}" if change.ip_address else ""
    body = "\n\n".join(
        [
            f"Hello {change.user.get_username()},",
            f"{what}\n(On {when}{where}.) Other sessions of your account were signed out.",
            "If this was not you, tell an administrator at once: they can end every session of "
            "your account and reset its second factors.",
            f"Your account's security page:\n{settings.SITE_URL.rstrip('/')}/admin/security/",
        ]
    )
    return EmailMessage(
        f"{settings.SITE_NAME}: {change.get_action_display().lower()}", body + "\n", to=[change.user.email]
    )
