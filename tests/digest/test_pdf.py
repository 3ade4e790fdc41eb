"""The PDF edition read back as a reader's PDF viewer would: text, contents, links, fonts, metadata."""

import datetime
import hashlib
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

from digest.edition import _allowed_roots, _stylesheet_path, week_range
from tests.digest.conftest import PUBLISHED_AT

# The rendered demo is built from the database once per session (tests/digest/conftest.py).
pytestmark = pytest.mark.django_db


def page_texts(reader):
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def flatten_outline(reader, outline=None, depth=0):
    entries = []
    for item in reader.outline if outline is None else outline:
        if isinstance(item, list):
            entries += flatten_outline(reader, item, depth + 1)
        else:
            entries.append((depth, item.title, reader.get_destination_page_number(item) + 1))
    return entries


def story_start_pages(demo, texts):
    """The page (1-based) where each story's title first appears after the contents page."""
    starts = {}
    for _, stories in demo.sections:
        for title, _ in stories:
            starts[title] = next(number for number, text in enumerate(texts[2:], start=3) if title in text)
    return starts


def test_every_story_title_and_company_appears_in_reading_order(rendered_demo):
    texts = page_texts(rendered_demo.reader())
    body = " ".join(texts[2:])  # after the cover and the contents
    stories = [story for _, section_stories in rendered_demo.sections for story in section_stories]
    positions = [body.index(title) for title, _ in stories]
    assert positions == sorted(positions)
    for (title, companies), start, end in zip(stories, positions, [*positions[1:], len(body)], strict=True):
        story_text = body[start:end].lower()
        assert companies and all(company.lower() in story_text for company in companies), title
    assert "The dominant engineering theme this week" in texts[0]  # Week in Review on the cover
    assert body.index("Top Stories") < body.index("Developing Threads") < body.index("A defining pattern this week")


def test_cover_names_the_publication_issue_week_and_publication_date(rendered_demo):
    cover = page_texts(rendered_demo.reader())[0]
    assert "Engineering @ Scale" in cover
    # The cover's facts are set in capitals.
    assert "ISSUE 1" in cover and "18 APRIL – 1 MAY 2026" in cover and "PUBLISHED 18 APRIL 2026" in cover
    assert "Page 1" not in cover  # no running footer on the cover


def test_contents_page_numbers_are_the_pages_where_stories_start(rendered_demo):
    reader = rendered_demo.reader()
    texts = page_texts(reader)
    contents = reader.pages[1].extract_text(extraction_mode="layout").splitlines()
    starts = story_start_pages(rendered_demo, texts)
    for title, page in starts.items():
        line = next(line for line in contents if title[:40] in line)
        assert int(line.split()[-1]) == page, title
    assert len(set(starts.values())) > 1  # the stories do span pages: the check means something


def test_running_header_and_page_n_of_m_on_every_page_but_the_cover(rendered_demo):
    texts = page_texts(rendered_demo.reader())
    for number, text in enumerate(texts[1:], start=2):
        assert f"Page {number} of {len(texts)}" in text
        assert "ENGINEERING @ SCALE" in text and "Issue 1 · 18 April – 1 May 2026" in text


def test_bookmarks_for_each_section_and_story_point_at_their_pages(rendered_demo):
    reader = rendered_demo.reader()
    outline = flatten_outline(reader)
    starts = story_start_pages(rendered_demo, page_texts(reader))
    expected = [(0, "Week in Review", 1), (0, "Contents", 2)]
    for section, stories in rendered_demo.sections:
        expected.append((0, section, starts[stories[0][0]]))
        expected += [(1, title, starts[title]) for title, _ in stories]
    assert outline[: len(expected)] == expected
    assert outline[len(expected)][:2] == (0, "Patterns Across Companies")


def test_contents_entries_are_internal_links(rendered_demo):
    reader = rendered_demo.reader()
    destinations = {annotation.get_object().get("/Dest") for annotation in reader.pages[1]["/Annots"]}
    stories = [title for _, section_stories in rendered_demo.sections for title, _ in section_stories]
    assert len({dest for dest in destinations if dest and dest.startswith("story-")}) == len(stories)
    assert {"week-in-review", "section-1", "section-2", "patterns"} <= destinations


def test_fonts_are_the_shipped_family_embedded_and_subset(rendered_demo):
    reader = rendered_demo.reader()
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            fonts[font["/BaseFont"]] = descriptor
    assert fonts
    for name, descriptor in fonts.items():
        assert re.fullmatch(r"/[A-Z]{6}\+Plex-(Serif|Sans|Mono)[-\w]*", name), name  # subset of a shipped font
        assert "/FontFile2" in descriptor, name  # embedded


def test_metadata_language_and_accessibility_tagging(rendered_demo):
    reader = rendered_demo.reader()
    metadata = reader.metadata
    assert metadata.title == rendered_demo.title
    assert metadata.author == settings.SITE_NAME
    assert metadata.subject.startswith("Engineering @ Scale, issue 1: 18 April – 1 May 2026. 6 stories")
    keywords = metadata["/Keywords"].split(", ")
    companies = {company for _, stories in rendered_demo.sections for _, names in stories for company in names}
    assert companies | set(rendered_demo.themes) == set(keywords)
    assert metadata.creation_date == PUBLISHED_AT
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en"
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    assert b"pdfuaid:part" in catalog["/Metadata"].get_object().get_data()


def test_the_file_is_dated_by_its_publication_never_by_the_clock(rendered_demo):
    reader = rendered_demo.reader()
    assert reader.metadata.creation_date == reader.metadata.modification_date == PUBLISHED_AT
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert set(re.findall(r"\d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d", xmp)) == {PUBLISHED_AT.isoformat()}


def test_same_content_renders_to_identical_bytes(rendered_demo):
    assert rendered_demo.published == rendered_demo.published_again


def test_same_content_renders_to_identical_bytes_in_another_process(rendered_demo, tmp_path):
    """A fresh interpreter, with another hash seed and another day's clock, writes the same bytes."""
    (tmp_path / "issue.html").write_text(rendered_demo.document_html, encoding="utf-8")
    script = """
import sys
from digest.pdf import write_pdf
html_path, stylesheet, identifier, *roots = sys.argv[1:]
html = open(html_path, encoding="utf-8").read()
data, _ = write_pdf(html, stylesheet=stylesheet, allowed_roots=roots, identifier=identifier.encode())
sys.stdout.buffer.write(data)
"""
    identifier = rendered_demo.content_hash[:32]
    roots = [str(root) for root in _allowed_roots()]
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "issue.html"), str(_stylesheet_path()), identifier, *roots],
        capture_output=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHONHASHSEED": "4242", "TZ": "Pacific/Kiritimati"},
        timeout=60,
    )
    assert hashlib.sha256(result.stdout).hexdigest() == hashlib.sha256(rendered_demo.published).hexdigest()


def test_draft_preview_is_marked_on_every_page_and_the_edition_never(rendered_demo):
    draft_texts = page_texts(rendered_demo.reader(rendered_demo.draft))
    assert len(draft_texts) >= 4
    assert all("DRAFT" in text for text in draft_texts)
    assert rendered_demo.reader(rendered_demo.draft).metadata.title.startswith("DRAFT")
    assert not any("DRAFT" in text for text in page_texts(rendered_demo.reader()))
    assert "DRAFT" not in rendered_demo.reader().metadata.title


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime.date(2026, 4, 18), datetime.date(2026, 5, 1), "18 April – 1 May 2026"),
        (datetime.date(2020, 1, 4), datetime.date(2020, 1, 10), "4–10 January 2020"),
        (datetime.date(2025, 12, 29), datetime.date(2026, 1, 4), "29 December 2025 – 4 January 2026"),
    ],
)
def test_week_range_names_each_month_and_year_once(start, end, expected):
    assert week_range(start, end) == expected
