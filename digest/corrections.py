"""Corrections: the one way published content changes, with a public note.

An edit to a published issue, one of its stories, or a company, theme or tag they show is
recorded here, in the transaction of the edit. The correction is announced with
``signals.issue_corrected`` (the reader site purges what showed the issue) and the PDF
edition's rebuild is recorded as a run (``publishing.request_pdf_rebuild``), so the work
it implies is carried out by workers after the commit and never lost to a broker outage.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .fingerprint import fingerprint, issue_content
from .models import Correction, Issue, IssueEvent
from .publishing import request_pdf_rebuild
from .signals import issue_corrected
from .workflow import TransitionNotAllowed, is_correction


def record_correction(*, issue, by, note):
    """Record a public correction of a published issue, made by ``by``; return it.

    Call it in the transaction of the corrected change, after the change is saved.
    """
    note = note.strip()
    if not by.has_perm("digest.correct_issue"):
        raise PermissionDenied("Only publishers may correct a published issue.")
    if not note:
        raise TransitionNotAllowed("A correction needs a short public note.")
    with transaction.atomic():
        # The row lock orders this correction with every PDF store (edition.store_issue_pdf).
        locked = Issue.objects.select_for_update().get(pk=issue.pk)
        if not is_correction(locked):
            raise TransitionNotAllowed("Only a published issue takes corrections.")
        correction = Correction.objects.create(issue=locked, note=note, created_by=by)
        IssueEvent.objects.create(
            issue=locked, actor=by, action="correct", from_state=locked.state, to_state=locked.state, comment=note
        )
        # What readers see now is what stands approved: a later check compares with this.
        locked.approved_content = issue_content(locked)
        locked.approved_fingerprint = fingerprint(locked.approved_content)
        locked.save(update_fields=["approved_content", "approved_fingerprint"])
        issue_corrected.send(sender=Issue, issue=locked, correction=correction, by=by)
        request_pdf_rebuild(issue=locked, by=by)
    return correction
