"""Tell the newsroom by email when an issue needs them.

Sending to review mails every reviewer (a user with ``digest.review_issue``) but the
sender; requesting changes mails the editor who last sent the issue to review; a change to
an approved or scheduled issue (``content_changed``, ``digest.approval``) mails whoever
approved it. The mails are written as ``NewsroomMail`` rows in the transition's transaction:
the outbox. A worker sends them once it commits, and the beat
(``newsroom.tasks.send_newsroom_mail``) sends what a dead worker or a mail server that did
not answer left, so an outage delays a notice but never loses it, and never fails the
transition. They are plain text: nothing in them is HTML-escaped.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse

from outbound.mail import send_outbox

from .models import NewsroomMail

logger = logging.getLogger(__name__)
_PERMISSIONS_BACKEND = "django.contrib.auth.backends.ModelBackend"  # axes's backend holds no permissions
BATCH = 50
MAX_ATTEMPTS = 30  # refusals of the mail itself (an outage is not counted): then it waits in the admin


def notify_on_transition(sender, *, issue, name, by, **kwargs):
    """Receiver of ``digest.signals.issue_transitioned``: queue the mails this transition calls for."""
    if name not in ("send_to_review", "request_changes", "content_changed"):
        return
    comment = issue.events.filter(action=name).values_list("comment", flat=True).first() or ""
    if name == "send_to_review":
        recipients = reviewers(exclude=by)
        subject = f"Issue #{issue.number} “{issue.title}” is waiting for your review"
        opening = f"{_name(by)} sent issue #{issue.number} “{issue.title}” to review."
        comment = f"Their comment:\n{comment}" if comment else ""
    elif name == "request_changes":
        sender_of_review = last_sent_to_review_by(issue)
        recipients = [sender_of_review] if sender_of_review and sender_of_review != by else []
        subject = f"Changes requested on issue #{issue.number} “{issue.title}”"
        opening = f"{_name(by)} requested changes to issue #{issue.number} “{issue.title}”; it is a draft again."
        comment = f"Their comment:\n{comment}" if comment else ""
    elif name == "content_changed":
        approver = last_approved_by(issue)
        recipients = [approver] if approver and approver != by else []
        subject = f"Issue #{issue.number} is back in review: it changed after you approved it"
        opening = (
            f"{_name(by, unknown='Someone')} changed issue #{issue.number}, “{issue.title}”, after you approved it, "
            "so it went back to review and will not be published until it is approved again."
        )
    addresses = sorted({user.email for user in recipients if user.email})
    if not addresses:
        return
    body = "\n\n".join(part for part in (opening, comment, f"Open the issue:\n{admin_url(issue)}") if part)
    NewsroomMail.objects.bulk_create(
        NewsroomMail(to=address, subject=subject[:300], body=body + "\n") for address in addresses
    )
    transaction.on_commit(wake_worker, robust=True)


def reviewers(*, exclude=None):
    """The active users who may review issues (superusers included), but ``exclude``."""
    users = get_user_model().objects.with_perm("digest.review_issue", backend=_PERMISSIONS_BACKEND)
    return list(users.exclude(pk=exclude.pk) if exclude is not None else users)


def last_sent_to_review_by(issue):
    return _last_actor(issue, "send_to_review")


def last_approved_by(issue):
    return _last_actor(issue, "approve")


def _last_actor(issue, action):
    """Who last took ``action`` on ``issue`` (its events are newest first), or None."""
    event = issue.events.filter(action=action).select_related("actor").first()
    return event.actor if event else None


def admin_url(issue):
    return settings.SITE_URL.rstrip("/") + reverse("admin:digest_issue_change", args=[issue.pk])


def _name(user, unknown="The scheduler"):
    if user is None:
        return unknown
    return user.get_full_name() or user.get_username()


def wake_worker():
    from .tasks import send_newsroom_mail  # the task module imports this one

    try:
        send_newsroom_mail.delay()
    except Exception:  # any broker failure: the rows wait for the beat
        logger.warning("Could not queue newsroom mail; the next beat will.", exc_info=True)


def pending():
    return NewsroomMail.objects.filter(attempts__lt=MAX_ATTEMPTS)


def send_pending():
    """Send up to ``BATCH`` pending mails, one transaction each (``outbound.mail``); answer how many went."""
    return send_outbox(
        pending(),
        limit=BATCH,
        message=lambda mail: EmailMessage(mail.subject, mail.body, to=[mail.to]),
        sent=lambda mail: mail.delete(),
        refused=lambda mail, error: mail.record_failure(error),
    )
