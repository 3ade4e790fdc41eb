"""Assembling an issue from outside its page: a story placed at the end of a section.

The issue's own form places and orders stories (the admin's inline). This is the shortcut
from a story's page, "Save and add to issue", under the same rules: the person may edit the
issue, a story stands in at most one issue, a published issue changes only through a
correction on its own page, and a change to an approved or scheduled issue sends it back to
review (``approval.content_edit``).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Max

from .approval import content_edit
from .models import Issue, Placement, Section
from .workflow import ensure_can_edit_issue, is_correction


class PlacementRefused(Exception):
    """The story cannot be placed in that issue (it is published, or the story is placed already)."""


def add_story_to_issue(*, issue, story, by, section=Section.TOP_STORIES):
    """Place ``story`` last in ``section`` of ``issue``; return the placement."""
    with content_edit(by=by):
        locked = Issue.objects.select_for_update().get(pk=issue.pk)
        if is_correction(locked):
            raise PlacementRefused(
                f"Issue #{locked.number} is published: add stories to it from its own page, as a correction."
            )
        ensure_can_edit_issue(by, locked)
        if not by.has_perm("digest.add_placement"):
            raise PermissionDenied("Your role may not place stories in issues.")
        current = Placement.objects.filter(story=story).select_related("issue").first()
        if current is not None:
            raise PlacementRefused(f"“{story}” is already in issue #{current.issue.number}.")
        last = locked.placements.filter(section=section).aggregate(last=Max("position"))["last"]
        placement = Placement.objects.create(
            issue=locked, story=story, section=section, position=0 if last is None else last + 1
        )
        # The issue's page opened before this carries the old version: its save is refused, not lost.
        locked.version += 1
        locked._history_user = by
        locked.save(update_fields=["version"])
    return placement
