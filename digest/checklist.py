"""The pre-publish checklist: what must be fixed, and what deserves a second look."""

from dataclasses import dataclass, field

from .models import Placement, Section

# Section anchors on the issue page; a story slug equal to one would break the contents links.
RESERVED_ANCHORS = {
    "content",
    "contents",
    "week-in-review",
    "top-stories",
    "developing-threads",
    "patterns",
    "corrections",
}
LONGEST_WEEK_DAYS = 14


class ChecklistItem(str):
    """One thing to fix or look at: its text, and what it is about.

    ``field`` names the issue's field to fix (``"placements"`` for its stories), or the
    story's field when ``story_id`` is set. It is still the text it says, for callers
    that only show or compare that.
    """

    def __new__(cls, text, *, field=None, story_id=None):
        item = super().__new__(cls, text)
        item.field, item.story_id = field, story_id
        return item


@dataclass
class Checklist:
    blocking: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def passed(self):
        return not self.blocking


def run_checklist(issue, *, placements=None):
    """Check an issue before approval and publication; four queries whatever its size.

    ``placements``, the issue's placements already loaded in reading order with their
    stories' companies, themes and sources (the admin's issue page has them), saves the queries.
    """
    checklist = Checklist()

    def block(text, **about):
        checklist.blocking.append(ChecklistItem(text, **about))

    def warn(text, **about):
        checklist.warnings.append(ChecklistItem(text, **about))

    placements = (
        placements
        if placements is not None
        else list(
            Placement.objects.filter(issue=issue)
            .select_related("story")
            .prefetch_related("story__companies", "story__themes", "story__sources")
            .order_by("section", "position", "id")
        )
    )
    if not issue.week_in_review.strip():
        block("Write the Week in Review.", field="week_in_review")
    if not issue.patterns.strip():
        warn("Patterns Across Companies is empty.", field="patterns")
    if not any(placement.section == Section.TOP_STORIES for placement in placements):
        block("Add at least one top story.", field="placements")
    if issue.week_end < issue.week_start:
        block("The week ends before it starts.", field="week_end")
    elif (issue.week_end - issue.week_start).days >= LONGEST_WEEK_DAYS:
        block(f"The issue covers more than {LONGEST_WEEK_DAYS} days; check the week dates.", field="week_start")
    titles = {}
    for placement in placements:
        story = placement.story
        story_checklist = check_story(story)
        checklist.blocking += story_checklist.blocking
        checklist.warnings += story_checklist.warnings
        if story.title.casefold() in titles:
            block(
                f"“{story.title}” appears twice in this issue (check “{titles[story.title.casefold()]}”).",
                field="placements",
            )
        titles[story.title.casefold()] = story.title
    return checklist


def check_story(story):
    """Check one story of an issue; no query if its companies, themes and sources are prefetched."""
    checklist = Checklist()
    name = f"“{story.title}”"

    def block(text, field):
        checklist.blocking.append(ChecklistItem(text, story_id=story.pk, field=field))

    def warn(text, field):
        checklist.warnings.append(ChecklistItem(text, story_id=story.pk, field=field))

    if not story.companies.all():
        block(f"{name} has no company.", "companies")
    sources = story.sources.all()
    if not sources:
        block(f"{name} has no source.", "sources")
    for source in sources:
        if not source.url:
            warn(f"{name}: the source “{source.title}” has no URL.", "sources")
    if not story.themes.all():
        warn(f"{name} has no theme.", "themes")
    if story.slug in RESERVED_ANCHORS:
        block(f"{name}: the slug “{story.slug}” clashes with a section anchor of the page; choose another.", "slug")
    return checklist
