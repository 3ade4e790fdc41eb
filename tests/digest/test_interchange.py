import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from companies.models import Company
from digest.interchange import IssueFileError, export_issue, import_issue
from digest.models import Issue, Placement, Section
from stories.models import MAX_TAGS_PER_STORY, Source, Story, Theme
from tests.factories import IssueFactory, StoryFactory

pytestmark = pytest.mark.django_db


def counts():
    return {model.__name__: model.objects.count() for model in (Issue, Story, Source, Company, Theme, Placement)}


def test_demo_issue_round_trips_byte_for_byte(demo_text):
    issue = import_issue(demo_text)
    assert export_issue(issue) == demo_text
    issue = import_issue(export_issue(issue), replace=True)
    assert export_issue(issue) == demo_text


def test_demo_issue_content_lands_in_the_models(demo_text):
    issue = import_issue(demo_text)
    top = [p.story.title for p in issue.placements.filter(section=Section.TOP_STORIES).order_by("position")]
    threads = [p.story.title for p in issue.placements.filter(section=Section.DEVELOPING_THREADS)]
    assert top == [
        "Offline Generation & Deterministic AI Pipelines",
        "Decoupling Routing and Metadata from Data Planes",
        "Embedded Durable Execution Replaces External Orchestration",
        "Agentic Traffic Forcing Architectural Isolation",
    ]
    assert threads == [
        "Standardizing Agent-to-Infrastructure Interfaces",
        "Verifying LLM Safety via Structural Architecture",
    ]
    assert issue.week_in_review.startswith("The dominant engineering theme")
    assert "<p>A defining pattern" in issue.patterns_html
    story = Story.objects.get(slug="offline-generation-deterministic-ai-pipelines")
    assert sorted(story.companies.values_list("name", flat=True)) == ["Amazon", "Sun Finance"]
    assert list(story.sources.values_list("title", "url")) == [("Source", "")]
    assert sorted(story.tags.names()) == ["llm", "synthetic data"]


def test_export_escapes_separators_and_reimports_them():
    issue = IssueFactory()
    story = StoryFactory(
        title="Pipes | and, commas", companies=[Company.objects.create(name="Stripe, Inc.", slug="stripe")]
    )
    story.sources.all().delete()
    Source.objects.create(story=story, title="A | B", publisher="Blog", url="https://example.com/a")
    Placement.objects.create(issue=issue, story=story)
    text = export_issue(issue)
    assert "companies: Stripe\\, Inc." in text
    assert "source: A \\| B | Blog | https://example.com/a" in text
    reimported = import_issue(text, replace=True)
    assert export_issue(reimported) == text
    assert Company.objects.filter(name="Stripe, Inc.").count() == 1


def test_companies_and_themes_are_matched_by_name_and_created_when_new(demo_text):
    Company.objects.create(name="amazon", slug="amazon-inc")
    import_issue(demo_text)
    assert Company.objects.filter(name__iexact="amazon").count() == 1
    assert Company.objects.filter(name="Sun Finance", slug="sun-finance").exists()
    assert Theme.objects.filter(name="Durable execution", slug="durable-execution").exists()


def test_existing_slug_fails_without_replace_and_updates_with_it(demo_text):
    issue = import_issue(demo_text)
    before = counts()
    with pytest.raises(IssueFileError) as error:
        import_issue(demo_text)
    assert error.value.line == 4
    assert "already exists" in error.value.message and "--replace" in error.value.message
    assert counts() == before

    edited = demo_text.replace("number: 1", "number: 7").replace(
        "## Agentic Traffic Forcing Architectural Isolation", "## Agentic Traffic, Retitled"
    )
    updated = import_issue(edited, replace=True)
    assert updated.pk == issue.pk and updated.number == 7
    assert (
        Story.objects.get(slug="agentic-traffic-forcing-architectural-isolation").title == "Agentic Traffic, Retitled"
    )
    assert counts() == before


def test_replace_keeps_stories_that_leave_the_issue(demo_text):
    import_issue(demo_text)
    start = demo_text.index("## Agentic Traffic")
    end = demo_text.index("# Developing Threads")
    import_issue(demo_text[:start] + demo_text[end:], replace=True)
    story = Story.objects.get(slug="agentic-traffic-forcing-architectural-isolation")
    assert not hasattr(story, "placement")


def test_a_story_of_another_issue_is_not_taken_over(demo_text):
    other = IssueFactory(number=99)
    Placement.objects.create(issue=other, story=StoryFactory(slug="offline-generation-deterministic-ai-pipelines"))
    before = counts()
    with pytest.raises(IssueFileError, match="already belongs to issue #99") as error:
        import_issue(demo_text)
    assert error.value.line == 17
    assert counts() == before


FRONT = "---\nnumber: 3\ntitle: T\nslug: s\nweek_start: 2026-01-01\nweek_end: 2026-01-07\n---\n"

BAD_FILES = [
    pytest.param("", 1, "the file is empty", id="empty"),
    pytest.param("# Week in Review\n\nText\n", 1, "expected front matter", id="no-front-matter"),
    pytest.param("---\nnumber: 3\ntitle: T\n", 1, "never closed", id="front-matter-not-closed"),
    pytest.param("---\nnumber: 3\ntitle: T\n---\n", 4, "missing slug, week_start, week_end", id="missing-keys"),
    pytest.param(FRONT.replace("title: T\n", "title: T\ntitle: U\n"), 4, "'title' is given twice", id="duplicate-key"),
    pytest.param(FRONT.replace("slug: s\n", "colour: red\n"), 4, "unknown front matter key 'colour'", id="unknown-key"),
    pytest.param(FRONT.replace("number: 3", "number: three"), 2, "positive whole number", id="bad-number"),
    pytest.param(FRONT.replace("2026-01-07", "7 Jan"), 6, "YYYY-MM-DD", id="bad-date"),
    pytest.param(FRONT.replace("2026-01-07", "2025-12-01"), 5, "cannot end before it starts", id="week-backwards"),
    pytest.param(FRONT + "\nIntro\n", 9, "text before the first section", id="text-before-sections"),
    pytest.param(FRONT + "\n# Sports\n", 9, "unknown section '# Sports'", id="unknown-section"),
    pytest.param(FRONT + "# Top Stories\n# Top Stories\n", 9, "appears twice", id="duplicate-section"),
    pytest.param(FRONT + "# Patterns Across Companies\n# Top Stories\n", 9, "reading order", id="section-order"),
    pytest.param(FRONT + "# Week in Review\n## A story\n", 9, "stories belong under", id="story-in-text-section"),
    pytest.param(FRONT + "# Top Stories\n\nLoose text\n", 10, "outside a story", id="text-outside-story"),
    pytest.param(FRONT + "# Top Stories\n##  \n", 9, "needs a title", id="story-without-title"),
    pytest.param(
        FRONT + "# Top Stories\n## S\n\ncolour: red\n", 11, "expected a story field", id="unknown-story-field"
    ),
    pytest.param(
        FRONT + "# Top Stories\n## S\nslug: a\nslug: b\n", 11, "'slug' is given twice", id="duplicate-story-field"
    ),
    pytest.param(FRONT + "# Top Stories\n## S\nslug: a\n## T\nslug: a\n", 12, "used twice", id="duplicate-story-slug"),
    pytest.param(
        FRONT + "# Top Stories\n## S\nsource: | Blog\n", 10, "source needs a title", id="source-without-title"
    ),
    pytest.param(
        FRONT + "# Top Stories\n## S\nsource: T | Blog | javascript:alert(1)\n", 10, "URL", id="source-bad-url"
    ),
    pytest.param(
        FRONT + "# Top Stories\n## S\nsource: a | b | c | d\n", 10, "title | publisher | url", id="source-parts"
    ),
    pytest.param(FRONT + "# Top Stories\n## S\n\n```\n# not a section\n", 13, "never closed", id="open-fence"),
    pytest.param(FRONT + "# Week in Review\n\n## Sub\n", 10, "stories belong under", id="h2-in-text"),
    pytest.param(FRONT + "# Top Stories\n## " + "x" * 301 + "\n", 9, "at most 300 characters", id="title-too-long"),
    pytest.param("\x00\x01binary", 1, "binary data", id="binary"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_bad_files_name_the_line_and_write_nothing(text, line, message):
    IssueFactory(number=50)
    before = counts()
    with pytest.raises(IssueFileError) as error:
        import_issue(text)
    assert message in error.value.message
    assert error.value.line == line
    assert str(error.value).startswith(f"line {line}: ")
    assert counts() == before


def test_a_failure_late_in_the_file_rolls_back_everything_before_it(demo_text):
    broken = demo_text.replace(
        "tags: go, ruby\nsource: Source\n", "tags: go, ruby\nsource: Bad | | ftp://example.com\n"
    )
    assert broken != demo_text
    with pytest.raises(IssueFileError):
        import_issue(broken)
    assert counts() == dict.fromkeys(counts(), 0)


def test_fenced_code_may_contain_hash_lines(demo_text):
    text = demo_text.replace(
        "tight serialization dependencies.", "tight serialization dependencies.\n\n```\n# a comment\n## another\n```"
    )
    issue = import_issue(text)
    assert export_issue(issue) == text
    assert "# a comment" in Story.objects.get(slug="decoupling-routing-and-metadata-from-data-planes").summary


def test_commands_export_and_import_files(tmp_path, demo_text, capsys):
    path = tmp_path / "issue.md"
    path.write_text(demo_text, encoding="utf-8")
    call_command("import_issue", str(path))
    assert "Imported issue #1" in capsys.readouterr().out
    out = tmp_path / "out.md"
    call_command("export_issue", "2026-04-18", "-o", str(out))
    assert out.read_text(encoding="utf-8") == demo_text


def test_import_command_reports_the_file_and_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text(FRONT + "\n# Sports\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad\.md, line 9: unknown section"):
        call_command("import_issue", str(path))
    path.write_bytes("---\nnumber: 1\ntitle: caf\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_issue", str(path))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_issue", str(tmp_path / "missing.md"))
    assert Issue.objects.count() == 0


def test_export_command_names_an_unknown_slug():
    with pytest.raises(CommandError, match="No issue with slug 'nope'"):
        call_command("export_issue", "nope")


def test_hostile_files_get_clear_errors(tmp_path):
    # How fast they are refused is measured by the limits' own design (MAX_FILE_CHARACTERS,
    # SUMMARY_MAX_LENGTH), not by a timed test that a busy machine would fail.
    IssueFactory(number=50)
    before = counts()
    story = "## S{0}\nslug: s{0}\n\nText.\n\n"
    hostile = {
        "huge": (FRONT + "# Week in Review\n\n" + "word " * 250_000, 1, "at most 1,000,000"),
        "too many stories": (
            FRONT + "# Top Stories\n\n" + "".join(story.format(n) for n in range(201)),
            8 + 2 + 5 * 200,  # the 201st story's heading
            "more than 200 stories",
        ),
        "pathological markdown": (FRONT + "# Top Stories\n\n## S\n\n" + "[" * 20_000, 12, "at most 10000 characters"),
        "truncated front matter": ("---\nnumber: 1\ntitle: Half a fi", 1, "never closed"),
    }
    for name, (text, line, message) in hostile.items():
        with pytest.raises(IssueFileError) as error:
            import_issue(text)
        assert error.value.line == line, name
        assert message in error.value.message, name
    assert counts() == before


def test_other_encodings_are_refused_by_the_command(tmp_path, demo_text):
    path = tmp_path / "utf16.md"
    path.write_text(demo_text, encoding="utf-16")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_issue", str(path))
    assert Issue.objects.count() == 0


def test_a_tag_over_100_characters_names_its_line_and_imports_nothing(demo_text):
    long_tag = "t" * 101
    text = demo_text.replace("tags: go, ruby\n", f"tags: go, {long_tag}\n")
    assert text != demo_text
    line = text.splitlines().index(f"tags: go, {long_tag}") + 1
    with pytest.raises(IssueFileError) as error:
        import_issue(text)
    assert error.value.line == line
    assert "at most 100 characters" in error.value.message
    assert counts() == dict.fromkeys(counts(), 0)


def test_too_many_tags_on_a_story_name_the_line(demo_text):
    tags = ", ".join(f"tag-{number}" for number in range(MAX_TAGS_PER_STORY + 1))
    text = demo_text.replace("tags: go, ruby\n", f"tags: {tags}\n")
    with pytest.raises(IssueFileError) as error:
        import_issue(text)
    assert error.value.line == text.splitlines().index(f"tags: {tags}") + 1
    assert f"at most {MAX_TAGS_PER_STORY} tags" in error.value.message
    assert counts() == dict.fromkeys(counts(), 0)


def test_a_byte_order_mark_is_ignored(tmp_path, demo_text, capsys):
    path = tmp_path / "bom.md"
    path.write_text(demo_text, encoding="utf-8-sig")  # as Windows editors save UTF-8
    call_command("import_issue", str(path))
    assert "Imported issue #1" in capsys.readouterr().out
    assert export_issue(Issue.objects.get()) == demo_text


def test_invalid_utf8_names_the_line_and_imports_nothing(tmp_path, demo_text):
    path = tmp_path / "bad.md"
    lines = demo_text.split("\n")
    lines[20] += " caf\xe9"
    path.write_bytes("\n".join(lines[:20]).encode() + b"\n" + lines[20].encode("latin-1") + b"\n")
    with pytest.raises(CommandError) as error:
        call_command("import_issue", str(path))
    message = str(error.value)
    assert "bad.md, line 21: not UTF-8 text" in message
    assert "Nothing was imported." in message
    assert Issue.objects.count() == 0


def test_a_bad_url_shows_the_value_once():
    text = FRONT + "# Top Stories\n## S\nsource: T | Blog | javascript:alert(1)\n"
    with pytest.raises(IssueFileError) as error:
        import_issue(text)
    assert error.value.line == 10
    assert error.value.message.count("Enter a valid URL") == 1
    assert "'javascript:alert(1)'" in error.value.message
