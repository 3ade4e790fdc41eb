"""The PDF edition of an issue: its document, its live preview, its stored file.

A published issue's PDF is rendered once and stored with the hash of what it was made
from (the HTML, the stylesheet and fonts, the renderer's versions); it is rendered again
only when that hash changes, after a correction or a template change.
"""

import dataclasses
import datetime
import hashlib
from pathlib import Path

import pydyf
import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from weasyprint.text.ffi import pango

from . import pdf, stored_files
from .models import Issue, Section
from .signals import issue_pdf_stored

STYLESHEET = "pdf/print.css"
TEMPLATE = "pdf/issue.html"
# Static folders whose files the PDF is made from: a change to any of them changes the hash.
ASSET_FOLDERS = ("pdf", "fonts")
# The cover lists the first stories, as a magazine's cover lines; more would crowd it.
COVER_STORIES = 4


class IssueNotPublished(Exception):
    """Only a published issue has a stored PDF edition; editors preview the others."""


@dataclasses.dataclass(frozen=True)
class IssueDocument:
    """The HTML of an issue's PDF and the hash of everything the PDF is made from."""

    html: str
    content_hash: str


def edition_filename(issue, *, draft=False):
    """Return the file name readers get: ``engineering-at-scale-2026-04-18.pdf``."""
    # slugify() would drop the "@" of "Engineering @ Scale"; the name says it as "at".
    publication = slugify(settings.SITE_NAME.replace("@", " at "))
    return f"{publication}-{issue.slug}{'-draft' if draft else ''}.pdf"


def week_range(start, end):
    """Format a week for print, naming each month and year once: "18 April to 1 May 2026", en-dashed."""
    if start.year != end.year:
        return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day}–{end.day} {end:%B %Y}"


def issue_document(issue, *, draft=False):
    """Build the HTML of ``issue``'s PDF; ``draft`` marks every page as a preview."""
    placements = list(
        issue.placements.select_related("story")
        .prefetch_related("story__companies", "story__themes", "story__sources")
        .order_by("section", "position", "id")
    )
    sections = [
        (section, stories)
        for section in Section
        if (stories := [placement.story for placement in placements if placement.section == section])
    ]
    stories = [story for _, section_stories in sections for story in section_stories]
    companies = sorted({company.name for story in stories for company in story.companies.all()}, key=str.lower)
    themes = sorted({theme.name for story in stories for theme in story.themes.all()}, key=str.lower)
    published_at = issue.published_at if issue.is_public else None
    corrections = list(issue.corrections.all()) if published_at else []
    # Its first publication stays the creation date; the latest correction is the modification.
    modified = corrections[-1].created_at if corrections else published_at
    html = render_to_string(
        TEMPLATE,
        {
            "issue": issue,
            "sections": sections,
            "draft": draft,
            "publication": settings.SITE_NAME,
            "week": week_range(issue.week_start, issue.week_end),
            "published_at": published_at,
            # W3C date-time in UTC: WeasyPrint writes it as the PDF's creation date.
            "created": _w3c(published_at),
            "modified": _w3c(modified),
            "corrections": corrections,
            "keywords": [*companies, *themes],
            "story_count": len(stories),
            "cover_stories": stories[:COVER_STORIES],
            "companies": companies,
        },
    )
    digest = hashlib.sha256()
    for part in (_renderer_fingerprint(), html.encode()):
        digest.update(hashlib.sha256(part).digest())
    return IssueDocument(html=html, content_hash=digest.hexdigest())


def _w3c(moment):
    """A W3C date-time in UTC, as WeasyPrint writes it into the PDF's dates."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds") if moment else ""


def render_document(document):
    """Render an IssueDocument to a RenderedPDF, within the configured time and memory."""
    return pdf.render_pdf(
        document.html,
        stylesheet=_stylesheet_path(),
        allowed_roots=_allowed_roots(),
        identifier=document.content_hash[:32].encode(),
        timeout=settings.PDF_RENDER_TIMEOUT,
        memory_limit=settings.PDF_RENDER_MEMORY_LIMIT_MB * 2**20,
    )


def render_edition(issue, *, draft=False):
    """Render ``issue`` to a RenderedPDF: the published edition, or a DRAFT-marked preview."""
    return render_document(issue_document(issue, draft=draft))


class PDFContentChanged(Exception):
    """The issue kept changing while its PDF was being rendered; try again later."""


# Renders of one store call before it gives up on an issue that keeps changing meanwhile.
STORE_RENDERS = 3


def store_issue_pdf(issue):
    """Render and store the PDF of a published issue, unless the stored one is current.

    Return True when a new file was stored. The render runs without locks; the result is
    stored under a lock on the issue row, and only if the issue still renders to the same
    document, so a render that a correction overtook is never stored over a newer one, and
    a correction that holds the row (``workflow.record_correction``) is seen by every store
    that finishes after it. The previous file is deleted once the transaction commits, so a
    reader downloading it meanwhile is not cut off (``stored_files.discard``).
    """
    for _ in range(STORE_RENDERS):
        if not issue.is_public:
            raise IssueNotPublished(f"{issue} is not published: only a published issue has a stored PDF.")
        document = issue_document(issue)
        rendered = None if _is_stored(issue, document) else render_document(document)
        with transaction.atomic():
            locked = Issue.objects.select_for_update().get(pk=issue.pk)
            if not locked.is_public:
                raise IssueNotPublished(f"{issue} is no longer published: its PDF is left as it is.")
            if issue_document(locked).content_hash == document.content_hash:
                if rendered is None and _is_stored(locked, document):
                    return False
                if rendered is not None:
                    _store(locked, document, rendered)
                    _copy_pdf_fields(locked, issue)
                    return True
        issue = locked  # changed meanwhile: render what it is now
    raise PDFContentChanged(f"{issue} changed during each of {STORE_RENDERS} renders of its PDF.")


def _is_stored(issue, document):
    current = issue.pdf and issue.pdf_content_hash == document.content_hash
    return bool(current) and issue.pdf.storage.exists(issue.pdf.name)  # a lost file is rendered again


def _store(issue, document, rendered):
    previous = issue.pdf.name
    storage = issue.pdf.storage
    # The name carries the content hash: the same content is the same file, whoever stored it.
    name = issue.pdf.field.generate_filename(
        issue, f"{Path(edition_filename(issue)).stem}-{document.content_hash[:16]}.pdf"
    )
    if not storage.exists(name):
        name = storage.save(name, ContentFile(rendered.data), max_length=issue.pdf.field.max_length)
    issue.pdf = name  # a new FieldFile: the old one may hold the previous file open
    issue.pdf_content_hash = document.content_hash
    issue.pdf_pages = rendered.pages
    issue.pdf_size = len(rendered.data)
    issue.pdf_rendered_at = timezone.now()
    issue.skip_history_when_saving = True  # a generated file is not an editorial revision
    issue.save(update_fields=PDF_FIELDS)
    del issue.skip_history_when_saving
    if previous and previous != name:
        stored_files.discard(previous)
    # The issue's pages show the PDF's pages and size.
    issue_pdf_stored.send(sender=Issue, issue=issue)


PDF_FIELDS = ["pdf", "pdf_content_hash", "pdf_pages", "pdf_size", "pdf_rendered_at"]


def _copy_pdf_fields(source, target):
    for field in PDF_FIELDS:
        value = getattr(source, field)
        setattr(target, field, value.name if field == "pdf" else value)  # a FieldFile belongs to its instance


def _stylesheet_path():
    path = finders.find(STYLESHEET)
    if path is None:
        raise ImproperlyConfigured(f"The PDF stylesheet {STYLESHEET} is not among the static files.")
    return Path(path)


def _allowed_roots():
    """The folders the renderer may read: the project's static files, collected or not, and media."""
    static_dirs = [entry[1] if isinstance(entry, tuple | list) else entry for entry in settings.STATICFILES_DIRS]
    return [*static_dirs, settings.STATIC_ROOT, settings.MEDIA_ROOT]


def _renderer_fingerprint():
    """Bytes that change whenever the stylesheet, the fonts or the renderer's libraries change."""
    static_root = _stylesheet_path().parent.parent
    versions = f"weasyprint {weasyprint.__version__} pydyf {pydyf.__version__} pango {pango.pango_version()}"
    parts = [versions.encode()]
    for folder in ASSET_FOLDERS:
        for path in sorted((static_root / folder).rglob("*")):
            if path.is_file():
                parts += [str(path.relative_to(static_root)).encode(), hashlib.sha256(path.read_bytes()).digest()]
    return b"\0".join(parts)
