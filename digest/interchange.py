"""An issue as one Markdown file: export, and all-or-nothing import.

The format (README, "Markdown interchange"):

    ---
    number: 1
    title: Engineering @ Scale — Week of 2026-04-18 to 2026-05-01
    slug: 2026-04-18
    week_start: 2026-04-18
    week_end: 2026-05-01
    ---

    # Week in Review

    Markdown text.

    # Top Stories

    ## A story title

    slug: a-story-title
    companies: Amazon, Sun Finance
    themes: Durable execution
    tags: llm, kafka
    source: Title | Publisher | https://example.com/post

    The story's summary, in Markdown.

    # Developing Threads

    # Patterns Across Companies

    Markdown text.

Front matter is flat ``key: value`` lines (deliberately not YAML: no implicit types, no
duplicate keys, errors with exact line numbers). In lists, ``\\,`` and ``\\|`` escape a
separator that belongs to a value.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.text import slugify

from companies.models import Company
from stories.models import Source, Story, Theme, validate_tag_names

from .approval import content_edit
from .corrections import record_correction
from .models import Issue, Placement, Section
from .workflow import is_correction

FRONT_MATTER_KEYS = ("number", "title", "slug", "week_start", "week_end")
STORY_KEYS = ("slug", "companies", "themes", "tags", "source")
WEEK_IN_REVIEW = "Week in Review"
PATTERNS = "Patterns Across Companies"
SECTION_HEADINGS = {
    WEEK_IN_REVIEW: None,
    Section.TOP_STORIES.label: Section.TOP_STORIES,
    Section.DEVELOPING_THREADS.label: Section.DEVELOPING_THREADS,
    PATTERNS: None,
}
MAX_FILE_CHARACTERS = 1_000_000  # the demo issue is 6,000; this bounds time and memory
MAX_STORIES = 200
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FIELD = re.compile(r"^(?P<key>[a-z_]+):(?: (?P<value>.*))?$")


class IssueFileError(Exception):
    """A problem in an issue file, with the line it is on."""

    def __init__(self, line, message):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def split_list(value, separator):
    r"""Split on ``separator`` unless escaped with a backslash; ``\\`` is a backslash."""
    items, current, chars = [], [], iter(value)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == separator:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def join_list(values, separator):
    joiner = ", " if separator == "," else f" {separator} "
    return joiner.join(value.replace("\\", "\\\\").replace(separator, "\\" + separator) for value in values)


# Export ---------------------------------------------------------------------------------


def export_issue(issue):
    """Return the issue as the text of one Markdown file."""
    placements = (
        Placement.objects.filter(issue=issue)
        .select_related("story")
        .prefetch_related("story__companies", "story__themes", "story__tags", "story__sources")
        .order_by("section", "position", "id")
    )
    lines = ["---"]
    lines += [
        f"number: {issue.number}",
        f"title: {issue.title}",
        f"slug: {issue.slug}",
        f"week_start: {issue.week_start.isoformat()}",
        f"week_end: {issue.week_end.isoformat()}",
        "---",
        "",
    ]
    lines += _text_section(WEEK_IN_REVIEW, issue.week_in_review)
    for section in Section:
        lines += [f"# {section.label}", ""]
        for placement in placements:
            if placement.section == section:
                lines += _story_lines(placement.story)
    lines += _text_section(PATTERNS, issue.patterns)
    return "\n".join(lines).rstrip("\n") + "\n"


def _text_section(heading, text):
    lines = [f"# {heading}", ""]
    if text.strip():
        lines += [_normalise_text(text), ""]
    return lines


def _normalise_text(text):
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _story_lines(story):
    lines = [f"## {story.title}", "", f"slug: {story.slug}"]
    companies = sorted(company.name for company in story.companies.all())
    themes = sorted(theme.name for theme in story.themes.all())
    tags = sorted(tag.name for tag in story.tags.all())
    if companies:
        lines.append(f"companies: {join_list(companies, ',')}")
    if themes:
        lines.append(f"themes: {join_list(themes, ',')}")
    if tags:
        lines.append(f"tags: {join_list(tags, ',')}")
    for source in story.sources.all():
        parts = [source.title, source.publisher, source.url]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(f"source: {join_list(parts, '|')}".rstrip())
    lines.append("")
    if story.summary.strip():
        lines += [_normalise_text(story.summary), ""]
    return lines


# Parse ----------------------------------------------------------------------------------


@dataclass
class ParsedSource:
    line: int
    title: str
    publisher: str
    url: str


@dataclass
class ParsedStory:
    line: int
    title: str
    section: int
    fields_line: dict = field(default_factory=dict)
    slug: str = ""
    companies: list = field(default_factory=list)
    themes: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    summary_lines: list = field(default_factory=list)
    summary_line: int = 0

    @property
    def summary(self):
        return "\n".join(self.summary_lines).strip("\n")


@dataclass
class ParsedIssue:
    fields: dict
    field_lines: dict
    texts: dict = field(default_factory=dict)
    text_lines: dict = field(default_factory=dict)
    stories: list = field(default_factory=list)


def decode_issue_file(data):
    """Decode the bytes of an issue file; raise IssueFileError naming the line of a byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        raise IssueFileError(
            data.count(b"\n", 0, error.start) + 1,
            f"not UTF-8 text (byte 0x{data[error.start]:02x}, {error.start - line_start + 1} bytes into the line); "
            "save the file as UTF-8 and try again.",
        ) from None


def parse_issue(text):
    """Parse the text of an issue file; raise IssueFileError naming the first bad line."""
    # Some editors start UTF-8 files with a byte order mark: it is not part of the text.
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise IssueFileError(1, "the file contains binary data (a NUL byte); expected UTF-8 Markdown text.")
    if len(text) > MAX_FILE_CHARACTERS:
        raise IssueFileError(
            1, f"the file has {len(text):,} characters; an issue file has at most {MAX_FILE_CHARACTERS:,}."
        )
    lines = text.replace("\r\n", "\n").split("\n")
    fields, field_lines, body_start = _parse_front_matter(lines)
    parsed = ParsedIssue(fields=fields, field_lines=field_lines)

    current_section = None  # heading text of the section we are in
    current_story = None
    state = "text"  # in a section text, a story's fields block, or a story's summary
    text_lines = []
    in_fence = False
    seen_sections = []

    def finish_text():
        if current_section in (WEEK_IN_REVIEW, PATTERNS):
            parsed.texts[current_section] = "\n".join(text_lines).strip("\n")

    for number, line in enumerate(lines[body_start:], start=body_start + 1):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else re.match(r"^(#{1,2}) (.*)$", line)
        if heading and len(heading.group(1)) == 1:
            finish_text()
            name = heading.group(2).strip()
            if name not in SECTION_HEADINGS:
                known = ", ".join(f"'# {heading}'" for heading in SECTION_HEADINGS)
                raise IssueFileError(number, f"unknown section '# {name}'; the sections are {known}.")
            if name in seen_sections:
                raise IssueFileError(number, f"the section '# {name}' appears twice.")
            order = list(SECTION_HEADINGS)
            if seen_sections and order.index(name) < order.index(seen_sections[-1]):
                raise IssueFileError(
                    number, f"'# {name}' must come before '# {seen_sections[-1]}'; keep the sections in reading order."
                )
            seen_sections.append(name)
            current_section, current_story, text_lines, state = name, None, [], "text"
            parsed.text_lines[name] = number
            continue
        if heading:
            title = heading.group(2).strip()
            section = SECTION_HEADINGS.get(current_section)
            if section is None:
                where = f"in '# {current_section}'" if current_section else "before any section"
                raise IssueFileError(
                    number,
                    f"a story ('## {title}') {where}; stories belong under '# Top Stories' or '# Developing Threads'.",
                )
            if len(parsed.stories) == MAX_STORIES:
                raise IssueFileError(
                    number, f"more than {MAX_STORIES} stories; an issue file has at most {MAX_STORIES}."
                )
            current_story = ParsedStory(line=number, title=title, section=section)
            parsed.stories.append(current_story)
            state = "before_fields"
            continue
        if current_section is None:
            if line.strip():
                raise IssueFileError(number, "text before the first section; start with '# Week in Review'.")
            continue
        if current_story is None:
            if SECTION_HEADINGS[current_section] is not None and line.strip():
                raise IssueFileError(
                    number, f"text in '# {current_section}' outside a story; start each story with '## Title'."
                )
            text_lines.append(line)
            continue
        if state == "before_fields":
            if not line.strip():
                continue
            # The fields block is optional: a first line that is not "key:" starts the summary.
            state = "fields" if _FIELD.match(line) else "summary"
        if state == "fields":
            if not line.strip():
                state = "summary"
                continue
            _parse_story_field(current_story, number, line)
            continue
        if not current_story.summary_lines and not line.strip():
            continue
        if not current_story.summary_lines:
            current_story.summary_line = number
        current_story.summary_lines.append(line)
    finish_text()
    if in_fence:
        raise IssueFileError(len(lines), "a code block (``` or ~~~) is opened but never closed.")
    return parsed


def _parse_front_matter(lines):
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise IssueFileError(1, "the file is empty.")
    if lines[first].strip() != "---":
        raise IssueFileError(
            first + 1, "expected front matter starting with '---' (number, title, slug, week_start, week_end)."
        )
    fields, field_lines = {}, {}
    for index in range(first + 1, len(lines)):
        number, line = index + 1, lines[index]
        if line.strip() == "---":
            missing = [key for key in FRONT_MATTER_KEYS if key not in fields]
            if missing:
                raise IssueFileError(number, f"the front matter is missing {', '.join(missing)}.")
            return fields, field_lines, index + 1
        if not line.strip():
            continue
        match = _FIELD.match(line)
        if not match:
            raise IssueFileError(number, f"expected 'key: value' in the front matter, found {line[:80]!r}.")
        key, value = match.group("key"), (match.group("value") or "").strip()
        if key not in FRONT_MATTER_KEYS:
            raise IssueFileError(number, f"unknown front matter key '{key}'; expected {', '.join(FRONT_MATTER_KEYS)}.")
        if key in fields:
            raise IssueFileError(number, f"'{key}' is given twice (first on line {field_lines[key]}).")
        fields[key], field_lines[key] = value, number
    raise IssueFileError(first + 1, "the front matter is never closed with '---'.")


def _parse_story_field(story, number, line):
    match = _FIELD.match(line)
    if not match or match.group("key") not in STORY_KEYS:
        found = match.group("key") if match else line[:80]
        raise IssueFileError(
            number,
            f"expected a story field ({', '.join(STORY_KEYS)}) as 'key: value', found {found!r}; "
            "leave a blank line between the fields and the summary.",
        )
    key, value = match.group("key"), (match.group("value") or "").strip()
    if key == "source":
        parts = split_list(value, "|")
        if len(parts) > 3:
            raise IssueFileError(number, "a source is 'title | publisher | url'; escape a '|' inside a title as '\\|'.")
        title, publisher, url = [*parts, "", "", ""][:3]
        if not title:
            raise IssueFileError(number, "a source needs a title.")
        story.sources.append(ParsedSource(line=number, title=title, publisher=publisher, url=url))
        return
    if key in story.fields_line:
        raise IssueFileError(number, f"'{key}' is given twice for this story (first on line {story.fields_line[key]}).")
    story.fields_line[key] = number
    if key == "slug":
        story.slug = value
        return
    items = [item for item in split_list(value, ",") if item]
    if key == "tags":
        # Checked here, with the line: the database would refuse a long tag with a traceback.
        try:
            validate_tag_names(items)
        except ValidationError as error:
            raise IssueFileError(number, error.messages[0]) from None
    setattr(story, key, items)


# Import ---------------------------------------------------------------------------------


def import_issue(text, *, replace=False, correction="", by=None):
    """Create (or with ``replace``, update) the issue a file describes, all or nothing.

    Companies, themes and tags are matched by name and created when new. Stories are
    matched by slug; with ``replace``, stories that leave the issue are kept, unplaced.

    Replacing a published issue changes what readers see: it is a correction, made by
    ``by`` (a publisher) with the public note ``correction``, and refused without one.
    The issue and its stories get a new version, so forms opened before conflict.
    """
    parsed = parse_issue(text)
    # An approved issue whose content the file changes goes back to review (``approval``).
    with content_edit(by=by, via="an import"):
        issue, corrected = _save_issue(parsed, replace=replace, correction=correction, by=by)
        _save_stories(parsed, issue, by=by)
        if corrected:
            record_correction(issue=issue, by=by, note=correction)
    return issue


def _validation_message(error, instance=None):
    messages = []
    for field_name, field_errors in (
        error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    ):
        prefix = "" if field_name in (None, "__all__") else f"{field_name}: "
        # Two validators may say the same (a URL field's own and the web-only one).
        field_message = " ".join(dict.fromkeys(field_errors))
        messages.append(prefix + field_message + _shown_value(instance, field_name))
    return " ".join(messages)


def _shown_value(instance, field_name):
    """Return " (found '…')" for a one-line value, so the error shows what was refused."""
    value = getattr(instance, field_name, None) if instance is not None and field_name else None
    if not isinstance(value, str) or not value or "\n" in value:
        return ""
    return f" (found {value if len(value) <= 80 else value[:80] + '…'!r})"


def _save_issue(parsed, *, replace, correction, by):
    """Save the issue's own fields; return it and whether the change is a correction."""
    fields, lines = parsed.fields, parsed.field_lines
    try:
        number = int(fields["number"])
        if number < 1:
            raise ValueError
    except ValueError:
        raise IssueFileError(
            lines["number"], f"number must be a positive whole number, not {fields['number']!r}."
        ) from None
    dates = {}
    for key in ("week_start", "week_end"):
        try:
            dates[key] = datetime.date.fromisoformat(fields[key])
        except ValueError:
            raise IssueFileError(lines[key], f"{key} must be a date as YYYY-MM-DD, not {fields[key]!r}.") from None

    issue = Issue.objects.select_for_update().filter(slug=fields["slug"]).first()
    if issue is not None and not replace:
        raise IssueFileError(
            lines["slug"], f"an issue with slug '{fields['slug']}' already exists; import with --replace to update it."
        )
    corrected = is_correction(issue)
    if corrected:
        if not correction.strip():
            raise IssueFileError(
                lines["slug"],
                f"issue #{issue.number} is published: replacing it is a correction. Import with "
                '--correction "what changed" (a public note) and --by a publisher.',
            )
        if by is None or not by.has_perm("digest.correct_issue"):
            raise PermissionDenied("Only publishers may correct a published issue.")
    if issue is None:
        issue = Issue()
    else:
        issue.version += 1
    issue._history_user = by
    issue.number, issue.title, issue.slug = number, fields["title"], fields["slug"]
    issue.week_start, issue.week_end = dates["week_start"], dates["week_end"]
    issue.week_in_review = parsed.texts.get(WEEK_IN_REVIEW, "")
    issue.patterns = parsed.texts.get(PATTERNS, "")
    try:
        issue.full_clean()
    except ValidationError as error:
        first_field = next(iter(getattr(error, "error_dict", {"__all__": None})))
        line = (
            {
                "week_in_review": parsed.text_lines.get(WEEK_IN_REVIEW),
                "patterns": parsed.text_lines.get(PATTERNS),
            }.get(first_field)
            or lines.get(first_field)
            or lines["week_start"]
        )
        raise IssueFileError(line, _validation_message(error, issue)) from None
    issue.save()
    issue.placements.all().delete()
    return issue, corrected


def _save_stories(parsed, issue, *, by):
    seen_slugs = {}
    positions = dict.fromkeys(Section, 0)
    for parsed_story in parsed.stories:
        if not parsed_story.title:
            raise IssueFileError(parsed_story.line, "a story needs a title after '## '.")
        slug = parsed_story.slug or slugify(parsed_story.title)
        slug_line = parsed_story.fields_line.get("slug", parsed_story.line)
        if slug in seen_slugs:
            raise IssueFileError(
                slug_line, f"the story slug '{slug}' is used twice (first on line {seen_slugs[slug]})."
            )
        seen_slugs[slug] = slug_line
        story = Story.objects.filter(slug=slug).select_related("placement__issue").first()
        if story is None:
            story = Story(slug=slug)
        elif hasattr(story, "placement") and story.placement.issue_id != issue.pk:
            raise IssueFileError(
                slug_line, f"the story '{slug}' already belongs to issue #{story.placement.issue.number}."
            )
        else:
            story.version += 1  # its sources are made anew: a form opened before conflicts
        story._history_user = by
        story.title, story.summary = parsed_story.title, parsed_story.summary
        _clean(
            story,
            {"title": parsed_story.line, "slug": slug_line, "summary": parsed_story.summary_line or parsed_story.line},
        )
        story.save()
        story.companies.set([_company(name, parsed_story) for name in parsed_story.companies])
        story.themes.set([_theme(name, parsed_story) for name in parsed_story.themes])
        story.tags.set(parsed_story.tags)
        story.sources.all().delete()
        for position, parsed_source in enumerate(parsed_story.sources):
            source = Source(
                story=story,
                position=position,
                title=parsed_source.title,
                publisher=parsed_source.publisher,
                url=parsed_source.url,
            )
            _clean(source, {}, default_line=parsed_source.line, exclude=["story"])
            source.save()
        Placement.objects.create(
            issue=issue, story=story, section=parsed_story.section, position=positions[parsed_story.section]
        )
        positions[parsed_story.section] += 1


def _clean(instance, field_lines, *, default_line=None, exclude=None):
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        first_field = next(iter(getattr(error, "error_dict", {"__all__": None})))
        raise IssueFileError(field_lines.get(first_field, default_line), _validation_message(error, instance)) from None


def _company(name, parsed_story):
    return _named(Company, name, parsed_story, "companies")


def _theme(name, parsed_story):
    return _named(Theme, name, parsed_story, "themes")


def _named(model, name, parsed_story, key):
    """Find by name, ignoring case, or create with a unique slug."""
    existing = model.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    line = parsed_story.fields_line[key]
    base = slugify(name)
    if not base:
        raise IssueFileError(line, f"'{name}' cannot be turned into a web address; use letters or digits.")
    slug, suffix = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    instance = model(name=name, slug=slug)
    _clean(instance, {}, default_line=line)
    instance.save()
    return instance
