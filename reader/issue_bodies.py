"""The stored bodies of issue pages: marked stale with the change, rebuilt by workers.

An issue page is served from its stored body (``StoredIssueBody``) while the body is
current. It shows more than the issue's own texts (its stories' companies, themes and
tags, its corrections, its neighbours' titles, its PDF's pages and size), so it follows
the same keys as the page cache: ``mark_stale`` is called by ``purges.queue_purge`` in the
transaction of every change that purges pages, and bumps the generation of each body whose
issue's key (``issue-<id>``) or a neighbour's link key (``issue-link-<id>``) is purged. The
bump commits with the change or not at all; from then on the page is rendered afresh
(correct, at the old cost) until a worker has stored the new body.

The database is the source of truth, not the broker: the commit wakes a worker
(``reader.tasks.rebuild_issue_bodies``), and the beat runs the same task every minute, so a
lost message or a dead worker delays a rebuild but never loses it. A published issue
without a body is built the same way.
"""

import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from digest.issue_page import body_template_hash, render_issue_body
from digest.models import Issue

from . import keys
from .models import StoredIssueBody

logger = logging.getLogger(__name__)

# Bodies one task builds before it hands the rest to the next one (about 30 ms each).
BATCH = 100


def mark_stale(purged_keys):
    """Bump the bodies that show what ``purged_keys`` name; wake a worker once the change commits."""
    own, linked = keys.issue_ids(purged_keys)
    if not own and not linked:
        return
    shown = Q(issue_id__in=own) | Q(previous_issue_id__in=linked) | Q(next_issue_id__in=linked)
    StoredIssueBody.objects.filter(shown).update(generation=F("generation") + 1)
    transaction.on_commit(_wake_worker, robust=True)


def mark_all_stale():
    """Bump every stored body (after a change the keys do not follow, such as a template tag's code)."""
    StoredIssueBody.objects.update(generation=F("generation") + 1)
    transaction.on_commit(_wake_worker, robust=True)


def _wake_worker():
    from .tasks import rebuild_issue_bodies

    rebuild_issue_bodies.delay()


def stale_issue_ids(limit):
    """Return the ids of issues whose body is stale or missing, at most ``limit``."""
    stale = StoredIssueBody.objects.filter(
        Q(built_generation__lt=F("generation")) | ~Q(template_hash=body_template_hash())
    )
    # Bodies that failed before go last, so that they cannot hold back the others.
    stale = stale.order_by("attempts", "issue_id").values_list("issue_id", flat=True)
    missing = Issue.objects.published().filter(stored_body__isnull=True).values_list("pk", flat=True)
    found = list(stale[:limit])
    return found + list(missing[: limit - len(found)]) if len(found) < limit else found


def rebuild_stale(limit=BATCH):
    """Build up to ``limit`` stale or missing bodies; return whether some are left for another run."""
    issue_ids = stale_issue_ids(limit + 1)
    for issue_id in issue_ids[:limit]:
        try:
            rebuild(issue_id)
        except Exception as error:  # one issue's failure must not hold back the others
            StoredIssueBody.objects.filter(pk=issue_id).update(
                attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"
            )
            logger.exception("Could not build the stored body of issue %s", issue_id)
    return len(issue_ids) > limit


def rebuild(issue_id):
    """Render and store the body of issue ``issue_id``, unless it is current; drop it if not public.

    The row is locked while the body renders, so a change that commits meanwhile bumps the
    generation after this store, and the body is built again.
    """
    # A missing body starts stale, in a transaction of its own, so that any change that
    # commits after this point finds the row and bumps it.
    StoredIssueBody.objects.bulk_create(
        [StoredIssueBody(issue_id=issue_id, generation=1, built_generation=0)], ignore_conflicts=True
    )
    with transaction.atomic():
        body = StoredIssueBody.objects.select_for_update(skip_locked=True).filter(pk=issue_id).first()
        if body is None or body.is_current:
            return  # another worker has it, or it was built meanwhile
        issue = Issue.objects.published().filter(pk=issue_id).first()
        if issue is None:
            body.delete()  # withdrawn or gone: nothing to serve
            return
        rendered = render_issue_body(issue)
        body.html, body.head_html, body.stories = rendered.html, rendered.head_html, rendered.stories
        body.template_hash = rendered.template_hash
        body.previous_issue_id, body.next_issue_id = rendered.previous_issue_id, rendered.next_issue_id
        body.built_generation, body.built_at, body.attempts, body.last_error = body.generation, timezone.now(), 0, ""
        body.save()
