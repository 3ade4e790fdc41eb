"""What the rest of the newsroom sees of the intake: the issue page's panel, and cited posts counted as used."""

from django.urls import reverse

from . import candidates
from .models import Candidate

PANEL_ROWS = 15


def issue_panel_context(request, issue):
    """The issue page's panel: candidates dated in the issue's week that no story uses yet."""
    if not request.user.has_perm("intake.view_candidate") or not (issue.week_start and issue.week_end):
        return None
    week = Candidate.objects.not_yet_used().dated_between(issue.week_start, issue.week_end)
    rows = list(week.select_related("company").newest_first()[: PANEL_ROWS + 1])
    inbox = reverse("admin:intake_candidate_changelist")
    return {
        "candidates": rows[:PANEL_ROWS],
        "more": len(rows) > PANEL_ROWS,
        "inbox_url": f"{inbox}?state=open&week={issue.week_start:%Y-%m-%d}_{issue.week_end:%Y-%m-%d}",
    }


def source_saved(sender, instance, **kwargs):
    """A story now cites this post: its candidate counts as used."""
    if instance.url:
        candidates.mark_cited(instance)
