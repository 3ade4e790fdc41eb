"""What a published issue shows changes only through a correction: deletes are refused,
renames are corrections.

A published issue shows its stories, and its stories name companies, themes and tags.
Deleting any of these would change what readers see with no public note, no purge and no
PDF rebuild, so it is refused: withdraw the issue first, or correct the story so that it
no longer names the company, theme or tag. Renaming a company, theme or tag that a
published story names changes each such issue: it is a correction of each, by a
publisher, with a public note, recorded with ``corrections.record_correction``.

The admin's delete page and its "delete selected" action both ask ``deletion_refusals``
and delete through ``ensure_deletable``. A bare ``Model.delete()`` in code is not guarded
(the benchmark data is reset that way, tens of thousands of rows at once).
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, ProtectedError
from simple_history.utils import bulk_update_with_history
from taggit.models import Tag

from companies.models import Company
from stories.models import Story, Theme

from .approval import content_edit
from .corrections import record_correction
from .models import Issue, IssueState, Placement
from .workflow import TransitionNotAllowed

# The fields of a company, theme or tag that a published issue shows (by name, and in
# the address its links point to); its other fields appear only on its own page.
NAME_FIELDS = ("name", "slug")
_STORY_RELATION = {Company: "companies", Theme: "themes", Tag: "tags"}


def issues_showing(obj):
    """Return the published issues that show ``obj``.

    ``obj`` is an issue, a story, or a company, theme or tag named by a story.
    """
    published = Issue.objects.filter(state=IssueState.PUBLISHED).order_by("number")
    if isinstance(obj, Issue):
        return published.filter(pk=obj.pk)
    placements = Placement.objects.filter(issue=OuterRef("pk"))
    if isinstance(obj, Story):
        return published.filter(Exists(placements.filter(story=obj)))
    relation = _STORY_RELATION[type(obj)]
    return published.filter(Exists(placements.filter(**{f"story__{relation}": obj})))


def deletion_refusals(objects):
    """Return why each of ``objects`` may not be deleted: one line per object a published issue shows."""
    refusals = []
    for obj in objects:
        numbers = list(issues_showing(obj).values_list("number", flat=True))
        if not numbers:
            continue
        what = f"{obj._meta.verbose_name} “{obj}”"
        if isinstance(obj, Issue):
            refusals.append(f"Issue #{numbers[0]} is published: withdraw it before deleting it.")
        else:
            refusals.append(
                f"The {what} is shown in published issue {listed_numbers(numbers)}: "
                "withdraw the issue, or correct its stories, before deleting it."
            )
    return refusals


def listed_numbers(numbers, *, at_most=10):
    """Return issue numbers for a message: "#3, #7, #9", or the first ``at_most`` and how many more
    (a company covered for years is named in thousands of issues)."""
    numbers = list(numbers)
    listed = ", ".join(f"#{number}" for number in numbers[:at_most])
    more = len(numbers) - at_most
    return f"{listed} and {more:,} more" if more > 0 else listed


def ensure_deletable(objects):
    """Raise ``ProtectedError`` if a published issue shows any of ``objects``."""
    objects = list(objects)
    refusals = deletion_refusals(objects)
    if refusals:
        raise ProtectedError(" ".join(refusals), objects)


def renamed_fields(obj):
    """Return the name fields of ``obj`` that differ from its saved row (locked until commit)."""
    if obj.pk is None:
        return []
    saved = type(obj).objects.select_for_update().filter(pk=obj.pk).values(*NAME_FIELDS).first()
    return [field for field in NAME_FIELDS if saved is not None and saved[field] != getattr(obj, field)]


@contextmanager
def correcting_renames(*, obj, by, note):
    """Save a change to a company, theme or tag inside this block; a rename is a correction.

    Before the block, when the change renames ``obj`` and published stories name it,
    check that ``by`` may correct published issues and that ``note`` says what changed
    (``PermissionDenied``, ``TransitionNotAllowed``). After it, record the correction on
    each such issue, with the pages it was on before (the old slug's pages are purged).
    A tag's stories get a new version: an edit opened before carries the old tag name and
    would put it back. An approved issue naming ``obj`` is not published yet: the rename
    sends it back to review (``approval``).
    """
    with content_edit(by=by, via="a rename"):
        renamed = bool(renamed_fields(obj))
        issues = list(issues_showing(obj)) if renamed else []
        if issues:
            what = f"{obj._meta.verbose_name} named in published issue {listed_numbers(i.number for i in issues)}"
            if not by.has_perm("digest.correct_issue"):
                raise PermissionDenied(f"Only publishers may rename a {what}.")
            if not note.strip():
                raise TransitionNotAllowed(f"Renaming a {what} is a correction: add a short public note.")
        yield issues
        if renamed and isinstance(obj, Tag):
            _new_story_versions(Story.objects.filter(tags=obj), by=by, reason=f"Tag renamed to “{obj.name}”")
        for issue in issues:
            record_correction(issue=issue, by=by, note=note)


def _new_story_versions(stories, *, by, reason):
    """Give ``stories`` a new version, kept as a revision by ``by``, so forms opened before conflict."""
    stories = list(stories)
    for story in stories:
        story.version = F("version") + 1
    bulk_update_with_history(stories, Story, ["version"], default_user=by, default_change_reason=reason)
