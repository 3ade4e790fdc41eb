"""The newsletter's panel on each issue's admin page (``newsroom.panels``): options, mailings, a test send."""

from . import sending
from .models import Mailing, MailingState


def issue_panel(request, issue):
    if not request.user.has_perm("newsletter.view_mailing"):
        return None
    mailings = list(Mailing.objects.filter(issue=issue).defer("html", "text"))
    return {
        "options": sending.options_for(issue),
        "mailings": [(mailing, sending.progress(mailing)) for mailing in mailings],
        "can_send": request.user.has_perm("digest.publish_issue"),
        "user_email": request.user.email,
    }


def report_section(request, now):
    """The publishing report's mailings: stalled ones first, then those sending or paused."""
    if not request.user.has_perm("newsletter.view_mailing"):
        return None
    open_mailings = Mailing.objects.filter(state__in=[MailingState.SENDING, MailingState.PAUSED])
    rows = [(mailing, sending.progress(mailing, now=now)) for mailing in open_mailings.select_related("issue")
            .defer("html", "text")[:50]]  # fmt: skip
    rows.sort(key=lambda row: not row[1].stalled)
    return {"mailings": rows, "stalled": sum(progress.stalled for _, progress in rows)}
