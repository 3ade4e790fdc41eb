"""The newsletter's panel on each issue's admin page (``newsroom.panels``): options, mailings, a test send."""

from . import sending
from .models import Mailing


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
