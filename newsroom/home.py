"""The newsroom's home page: what waits for me, what goes out next, what went wrong, what just happened.

Each part is one bounded query (a few rows, their related rows joined), and a part a role
has no use for is not asked for at all, so the page costs the same whatever the size of
the archive.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count, Q, Window
from django.utils import timezone

from digest.models import Issue, IssueEvent, IssueState, PublicationRun, RunState
from digest.publishing import overdue_issues
from digest.workflow import TRANSITIONS
from stories.models import Story

# Rows shown per part; each part says how many more there are and links to the full list.
SHOWN = 10
ACTION_LABELS = {**{name: transition.label for name, transition in TRANSITIONS.items()}, "correct": "Correct"}


@dataclass
class Part:
    """One part of the home page: up to ``SHOWN`` rows, how many there are, and the full list's link."""

    rows: list
    total: int
    more_url: str = ""

    @property
    def more(self):
        return self.total - len(self.rows)


def _part(queryset, more_url=""):
    # The total rides along with the rows (a window count): one query per part, at any size.
    rows = list(queryset.annotate(total_rows=Window(Count("pk")))[:SHOWN])
    return Part(rows, rows[0].total_rows if rows else 0, more_url)


def action_label(action):
    """Name an audit-log action as the issue page's buttons do ("send_to_review" → "Send to review")."""
    return ACTION_LABELS.get(action, action.replace("_", " ").capitalize())


def newsroom_home(user, *, now=None, urls):
    """Return the parts of ``user``'s home page, as of ``now``; ``urls`` names the full lists.

    ``urls`` maps ``"issues"``, ``"stories"`` and ``"runs"`` to the admin's changelists
    (this module does not know the admin's URL names).
    """
    now = now or timezone.now()
    may_view_issues = user.has_perm("digest.view_issue")
    may_review = user.has_perm("digest.review_issue")
    may_publish = user.has_perm("digest.publish_issue")
    may_follow_runs = user.has_perm("digest.view_publicationrun")
    issues = Issue.objects.defer(*Issue.LONG_TEXT_FIELDS)
    parts = {}
    if may_review:
        parts["review"] = _part(
            issues.filter(state=IssueState.IN_REVIEW).order_by("updated_at", "id"),
            f"{urls['issues']}?state__exact={IssueState.IN_REVIEW}",
        )
    if may_publish:
        parts["approved"] = _part(
            issues.filter(state=IssueState.APPROVED).order_by("week_start", "number"),
            f"{urls['issues']}?state__exact={IssueState.APPROVED}",
        )
    if user.has_perm("stories.view_story"):
        # Mine, and not yet out: in no issue, or in one that is not published.
        mine = Story.objects.filter(author=user).filter(
            Q(placement__isnull=True) | ~Q(placement__issue__state=IssueState.PUBLISHED)
        )
        parts["my_stories"] = _part(
            mine.select_related("placement__issue")
            .only("title", "updated_at", "placement__section", "placement__issue__number", "placement__issue__state")
            .order_by("-updated_at", "-id"),
            f"{urls['stories']}?{urlencode({'author__id__exact': user.pk, 'published': 'no'})}",
        )
    if may_view_issues:
        parts["draft_issues"] = _part(
            issues.filter(state=IssueState.DRAFT).order_by("-week_start", "-number"),
            f"{urls['issues']}?state__exact={IssueState.DRAFT}",
        )
        parts["scheduled"] = _part(
            issues.filter(state=IssueState.SCHEDULED, publish_at__gt=now).order_by("publish_at", "number"),
            f"{urls['issues']}?{urlencode({'state__exact': IssueState.SCHEDULED, 'publish_at__gt': now.isoformat()})}",
        )
        parts["overdue"] = _part(
            overdue_issues(now).defer(*Issue.LONG_TEXT_FIELDS).order_by("publish_at", "number"),
            f"{urls['issues']}?{urlencode({'state__exact': IssueState.SCHEDULED, 'publish_at__lte': now.isoformat()})}",
        )
        event_fields = ["created_at", "action", "from_state", "to_state", "comment", "issue__number", "issue__title"]
        actor_fields = ["actor__username", "actor__first_name", "actor__last_name"]
        events = IssueEvent.objects.select_related("issue", "actor").only(*event_fields, *actor_fields)
        parts["activity"] = _part(events)
        for event in parts["activity"].rows:
            event.label = action_label(event.action)
    if may_follow_runs:
        parts["failed_runs"] = _part(
            PublicationRun.objects.filter(state=RunState.FAILED)
            .select_related("issue")
            .only("kind", "state", "created_at", "last_error", "issue__number", "issue__title")
            .order_by("-created_at", "-id"),
            f"{urls['runs']}?state__exact={RunState.FAILED}",
        )
    return parts
