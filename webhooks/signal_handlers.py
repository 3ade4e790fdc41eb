"""What each announcement of the core means for the webhooks: an event, written with it.

The core sends its signals inside the transaction of the change (``digest.signals``):
``issue_published`` from the publish run's "notify" step, ``issue_corrected`` from the
correction, ``issue_transitioned`` from the workflow. The deliveries are written there, so
they commit with the change or not at all.
"""

from digest.signals import issue_corrected, issue_published, issue_transitioned

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


def connect():
    """Connect every handler (``WebhooksConfig.ready``)."""
    issue_published.connect(issue_was_published, dispatch_uid="webhooks.issue_published")
    issue_corrected.connect(issue_was_corrected, dispatch_uid="webhooks.issue_corrected")
    issue_transitioned.connect(issue_was_withdrawn, dispatch_uid="webhooks.issue_withdrawn")
