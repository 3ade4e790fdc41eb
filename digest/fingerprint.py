"""The fingerprint of an issue as readers would see it: what an approval stands for.

``issue_content`` reads an issue and its stories in a fixed number of queries and returns
a compact, JSON-ready summary of everything a reader sees: the issue's own texts, and per
placement in reading order the story's title, address and summary, the names (and link
addresses) of its companies, themes and tags, and its sources. Short values are kept as
they are, so a later change can be named ("title “A” → “B”"); long texts are kept as their
SHA-256, which is enough to say that they changed. ``fingerprint`` hashes that summary.

The approval stores both on the issue (``workflow.approve``); ``describe_changes`` says in
words how a later summary differs from the approved one. Nothing here writes.
"""

import hashlib
import json

from django.db.models import Prefetch

from companies.models import Company
from stories.models import Source, Theme

from .models import Issue, Placement, Section

# The issue's own fields that readers see, in the order changes are listed.
ISSUE_FIELDS = ("number", "title", "slug", "week_start", "week_end", "week_in_review", "patterns")
_LONG_TEXTS = {"week_in_review", "patterns"}


def _hash(value):
    return hashlib.sha256(value.encode()).hexdigest()


def _names(objects):
    return [[obj.name, obj.slug] for obj in objects]


def issue_content(issue):
    """Return the summary of ``issue`` as readers would see it (five queries).

    Stories are listed by section, then position: the reading order. Renumbering positions
    without changing the order changes nothing a reader sees, and nothing here.
    """
    placements = (
        Placement.objects.filter(issue=issue)
        .select_related("story")
        .prefetch_related(
            Prefetch("story__companies", queryset=Company.objects.order_by("name", "pk"), to_attr="fp_companies"),
            Prefetch("story__themes", queryset=Theme.objects.order_by("name", "pk"), to_attr="fp_themes"),
            Prefetch("story__tags", to_attr="fp_tags"),  # taggit takes no queryset: sorted below
            Prefetch("story__sources", queryset=Source.objects.order_by("position", "id"), to_attr="fp_sources"),
        )
        .order_by("section", "position", "id")
    )
    fields = {}
    for name in ISSUE_FIELDS:
        value = getattr(issue, name)
        fields[name] = _hash(value) if name in _LONG_TEXTS else str(value)
    stories = []
    for placement in placements:
        story = placement.story
        sources = [[source.title, source.publisher, source.url] for source in story.fp_sources]
        stories.append(
            {
                "id": story.pk,
                "section": placement.section,
                "title": story.title,
                "slug": story.slug,
                "summary": _hash(story.summary),
                "companies": _names(story.fp_companies),
                "themes": _names(story.fp_themes),
                "tags": _names(sorted(story.fp_tags, key=lambda tag: (tag.name, tag.pk))),
                "sources": _hash(json.dumps(sources, ensure_ascii=False)),
            }
        )
    return {"issue": fields, "stories": stories}


def fingerprint(content):
    """Return the SHA-256 of an ``issue_content`` summary."""
    return _hash(json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def describe_changes(approved, current):
    """Say how ``current`` differs from ``approved`` (two ``issue_content`` summaries): a list of lines."""
    approved = approved or {"issue": {}, "stories": []}
    changes = []
    for name in ISSUE_FIELDS:
        before, after = approved["issue"].get(name), current["issue"].get(name)
        if before != after:
            label = str(Issue._meta.get_field(name).verbose_name)
            label = label if label[:1].isupper() else label.capitalize()
            shown = "" if name in _LONG_TEXTS or before is None else f" (“{before}” → “{after}”)"
            changes.append(f"Issue {label} changed{shown}.")
    before_stories = {story["id"]: story for story in approved["stories"]}
    after_stories = {story["id"]: story for story in current["stories"]}
    for story in current["stories"]:
        old = before_stories.get(story["id"])
        if old is None:
            changes.append(f"“{story['title']}” added to {Section(story['section']).label}.")
            continue
        parts = _story_changes(old, story)
        if parts:
            changes.append(f"“{story['title']}”: {'; '.join(parts)}.")
    for story in approved["stories"]:
        if story["id"] not in after_stories:
            changes.append(f"“{story['title']}” removed from the issue.")
    for section in Section:
        kept = [s["id"] for s in approved["stories"] if s["section"] == section and s["id"] in after_stories]
        now = [s["id"] for s in current["stories"] if s["section"] == section and s["id"] in before_stories]
        if kept != now and sorted(kept) == sorted(now):
            changes.append(f"The order of {section.label} changed.")
    return changes


def _story_changes(old, new):
    parts = []
    if old["section"] != new["section"]:
        parts.append(f"moved from {Section(old['section']).label} to {Section(new['section']).label}")
    if old["title"] != new["title"]:
        parts.append(f"title changed (“{old['title']}” → “{new['title']}”)")
    if old["slug"] != new["slug"]:
        parts.append(f"web address changed (“{old['slug']}” → “{new['slug']}”)")
    if old["summary"] != new["summary"]:
        parts.append("summary changed")
    for relation in ("companies", "themes", "tags"):
        if old[relation] == new[relation]:
            continue
        before, after = [name for name, _ in old[relation]], [name for name, _ in new[relation]]
        if before == after:
            parts.append(f"web address of its {relation} changed")
        else:
            parts.append(f"{relation} changed ({', '.join(before) or 'none'} → {', '.join(after) or 'none'})")
    if old["sources"] != new["sources"]:
        parts.append("sources changed")
    return parts
