"""Restore an earlier revision of a story, an issue, a company or a theme, children included.

django-simple-history keeps every save. Restoring copies a revision's fields back and
saves, which itself becomes the newest revision. A story's sources and an issue's
placements are restored as they stood when that revision was current (``children_by_revision``,
which the history page shows too), and a story's tags as its revision kept them.
"""

import datetime
from contextlib import nullcontext

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from companies.models import Company
from stories.models import Source, Story, Theme

from .approval import content_edit
from .corrections import record_correction
from .models import Issue, Placement
from .protection import correcting_renames
from .workflow import TransitionNotAllowed, ensure_can_edit_issue, ensure_can_edit_story, is_correction

_CHILDREN = {
    Story: (Source, "story_id", ["position", "title", "publisher", "url"]),
    Issue: (Placement, "issue_id", ["story_id", "section", "position"]),
}


def restore_revision(*, obj, history_id, by):
    """Make ``obj`` as it was in its revision ``history_id``; return the restored object."""
    model = type(obj)
    record = obj.history.get(history_id=history_id)
    with content_edit(by=by, via="a restored revision"):
        locked = model.objects.select_for_update().get(pk=obj.pk)
        _ensure_can_edit(by, locked)
        issue = _issue_of(locked)
        children = _children_as_of(locked, record) if model in _CHILDREN else None
        for field in _restorable_fields(model, record):
            setattr(locked, field, getattr(record, field))
        if hasattr(locked, "version"):
            locked.version += 1
        locked._history_user = by
        when = f"{record.history_date:%Y-%m-%d %H:%M} UTC"
        # A company's or theme's old name back on published stories is a rename: a correction of each issue.
        renaming = (
            correcting_renames(obj=locked, by=by, note=f"Restored “{locked}” to its version of {when}.")
            if isinstance(locked, Company | Theme)
            else nullcontext()
        )
        with renaming:
            locked.save()
        for field in record._history_m2m_fields:
            # Historical m2m rows are copies of the through rows: read the target's id.
            target = f"{field.m2m_reverse_field_name()}_id"
            getattr(locked, field.name).set([getattr(row, target) for row in getattr(record, field.name).all()])
        if getattr(record, "tag_names", None) is not None:  # None: a revision from before tags were kept
            locked.tags.set(record.tag_names)
        if children is not None:
            _replace_children(locked, children, by)
        issue = _issue_of(locked)
        if is_correction(issue):
            note = f"Restored “{locked}” to its version of {when}."
            record_correction(issue=issue, by=by, note=note)
    return locked


def _ensure_can_edit(user, obj):
    if isinstance(obj, Issue):
        ensure_can_edit_issue(user, obj)
    elif isinstance(obj, Story):
        ensure_can_edit_story(user, obj)
    elif isinstance(obj, Company) and not user.has_perm("companies.change_company"):
        raise PermissionDenied("You may not change companies.")
    elif isinstance(obj, Theme) and not user.has_perm("stories.change_theme"):
        raise PermissionDenied("You may not change themes.")


def _issue_of(obj):
    if isinstance(obj, Issue):
        return obj
    placement = getattr(obj, "placement", None) if isinstance(obj, Story) else None
    return placement.issue if placement else None


def _restorable_fields(model, record):
    # Workflow fields change only through digest.workflow, never by restoring content.
    skip = {model._meta.pk.attname, "created_at", "updated_at", "version", "state", "publish_at", "published_at"}
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.attname not in skip and field.editable and hasattr(record, field.attname)
    ]


def _children_as_of(obj, record):
    children = children_by_revision(obj, [record])[record.history_id]
    if type(obj) is Issue:
        elsewhere = Placement.objects.filter(story_id__in=[p.story_id for p in children]).exclude(issue_id=obj.pk)
        for placement in elsewhere.select_related("story", "issue")[:1]:
            raise TransitionNotAllowed(
                f"“{placement.story}” is now in issue #{placement.issue.number}; remove it there first."
            )
    return children


def children_by_revision(obj, records):
    """Return the children of ``obj`` (a story's sources, an issue's placements) in each revision.

    ``records`` are revisions of ``obj``; the answer maps each one's ``history_id`` to the
    historical rows of its children, in their order, in two queries whatever their number.
    The children of a revision are those that stood just before the next revision: the
    admin saves the parent first and its inline children a moment later.
    """
    child_model, parent_field, _ = _CHILDREN[type(obj)]
    records = sorted(records, key=lambda record: (record.history_date, record.history_id))
    if not records:
        return {}
    dates = [record.history_date for record in records]
    following = (
        obj.history.filter(history_date__gt=dates[-1]).order_by("history_date").values_list("history_date", flat=True)
    )
    next_after_last = following.first()
    cutoffs = {}
    for record in records:
        later = next((date for date in dates if date > record.history_date), next_after_last)
        cutoffs[record.history_id] = later - datetime.timedelta(microseconds=1) if later else timezone.now()
    # Every row of every child this parent ever had, up to the last cutoff, oldest first.
    ever_here = child_model.history.filter(**{parent_field: obj.pk}).values("id")
    rows = list(
        child_model.history.filter(id__in=ever_here, history_date__lte=max(cutoffs.values())).order_by(
            "history_date", "history_id"
        )
    )
    children = {}
    for history_id, cutoff in cutoffs.items():
        latest = {}  # as simple-history's ``as_of``: each child's newest row up to the cutoff
        for row in rows:
            if row.history_date > cutoff:
                break
            latest[row.id] = row
        standing = [row for row in latest.values() if row.history_type != "-" and getattr(row, parent_field) == obj.pk]
        children[history_id] = sorted(standing, key=lambda row: (getattr(row, "section", 0), row.position, row.id))
    return children


def _replace_children(obj, children, by):
    child_model, parent_field, fields = _CHILDREN[type(obj)]
    child_model.objects.filter(**{parent_field: obj.pk}).delete()
    for old in children:
        child = child_model(**{parent_field: obj.pk}, **{field: getattr(old, field) for field in fields})
        child._history_user = by
        child.save()
