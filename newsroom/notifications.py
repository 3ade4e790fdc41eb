"""Tell the newsroom by email when an issue needs them.

Sending to review mails every reviewer (a user with ``digest.review_issue``) but the
sender; requesting changes mails the editor who last sent the issue to review. The mails
go after the transition commits, through Django's mail (``EMAIL_*`` settings). They are
plain text: nothing in them is HTML-escaped.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse

logger = logging.getLogger(__name__)
_PERMISSIONS_BACKEND = "django.contrib.auth.backends.ModelBackend"  # axes's backend holds no permissions


def notify_on_transition(sender, *, issue, name, by, **kwargs):
    """Receiver of ``digest.signals.issue_transitioned``: queue the mails this transition calls for."""
    if name == "send_to_review":
        recipients = reviewers(exclude=by)
        subject = f"Issue #{issue.number} “{issue.title}” is waiting for your review"
        opening = f"{_name(by)} sent issue #{issue.number} “{issue.title}” to review."
    elif name == "request_changes":
        sender_of_review = last_sent_to_review_by(issue)
        recipients = [sender_of_review] if sender_of_review and sender_of_review != by else []
        subject = f"Changes requested on issue #{issue.number} “{issue.title}”"
        opening = f"{_name(by)} requested changes to issue #{issue.number} “{issue.title}”; it is a draft again."
    else:
        return
    addresses = sorted({user.email for user in recipients if user.email})
    if not addresses:
        return
    comment = issue.events.filter(action=name).values_list("comment", flat=True).first() or ""
    body = "\n\n".join(
        part
        for part in (
            opening,
            f"Their comment:\n{comment}" if comment else "",
            f"Open the issue:\n{admin_url(issue)}",
        )
        if part
    )
    messages = [EmailMessage(subject, body + "\n", to=[address]) for address in addresses]
    transaction.on_commit(lambda: _send(messages))


def reviewers(*, exclude=None):
    """The active users who may review issues (superusers included), but ``exclude``."""
    users = get_user_model().objects.with_perm("digest.review_issue", backend=_PERMISSIONS_BACKEND)
    return list(users.exclude(pk=exclude.pk) if exclude is not None else users)


def last_sent_to_review_by(issue):
    event = issue.events.filter(action="send_to_review").select_related("actor").first()
    return event.actor if event else None


def admin_url(issue):
    return settings.SITE_URL.rstrip("/") + reverse("admin:digest_issue_change", args=[issue.pk])


def _name(user):
    if user is None:
        return "The scheduler"
    return user.get_full_name() or user.get_username()


def _send(messages):
    # A mail server that fails or does not answer must not turn a committed transition into an error page.
    try:
        get_connection().send_messages(messages)
    except Exception:
        logger.exception("Could not send %d workflow notification(s).", len(messages))
