"""What each announcement of the core means for the webhooks: an event, written with it.

The core sends its signals inside the transaction of the change (``digest.signals``):
``issue_published`` from the publish run's "notify" step, ``issue_corrected`` from the
correction, ``issue_transitioned`` from the workflow; the newsletter's ``mailing_finished`` from the
transaction that marks a mailing completed. The deliveries are written there, so
they commit with the change or not at all.
"""

from django.db.models import Count

from digest.signals import issue_corrected, issue_published, issue_transitioned
from newsletter.signals import mailing_finished

from .delivery import queue_event
from .events import issue_data


def issue_was_published(sender, *, issue, **kwargs):
    queue_event("issue.published", {"issue": issue_data(issue)})


def issue_was_corrected(sender, *, issue, correction, **kwargs):
    correction_data = {"date": correction.created_at.isoformat(), "note": correction.note}
    queue_event("issue.corrected", {"issue": issue_data(issue), "correction": correction_data})


def issue_was_withdrawn(sender, *, issue, name, **kwargs):
    if name == "withdraw":
        queue_event("issue.withdrawn", {"issue": issue_data(issue)})


def mailing_was_finished(sender, *, mailing, **kwargs):
    counts = dict(mailing.recipients.values_list("status").annotate(count=Count("id")).order_by())
    mailing_data = {
        "id": mailing.pk,
        "subject": mailing.subject,
        "total": mailing.total,
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "skipped": counts.get("skipped", 0),
        "finished_at": mailing.finished_at.isoformat(),
    }
    queue_event("mailing.finished", {"issue": issue_data(mailing.issue), "mailing": mailing_data})


def connect():
    """Connect every handler (``WebhooksConfig.ready``)."""
    issue_published.connect(issue_was_published, dispatch_uid="webhooks.issue_published")
    issue_corrected.connect(issue_was_corrected, dispatch_uid="webhooks.issue_corrected")
    issue_transitioned.connect(issue_was_withdrawn, dispatch_uid="webhooks.issue_withdrawn")
    mailing_finished.connect(mailing_was_finished, dispatch_uid="webhooks.mailing_finished")
