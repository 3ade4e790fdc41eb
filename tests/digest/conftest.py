import dataclasses
import datetime
import io

import pytest
from django.db import transaction
from pypdf import PdfReader

from digest.edition import issue_document, render_document
from digest.interchange import import_issue
from digest.management.commands.load_demo import DEMO_ISSUE
from digest.models import IssueState, Section

PUBLISHED_AT = datetime.datetime(2026, 4, 18, 8, 30, tzinfo=datetime.UTC)


@dataclasses.dataclass
class RenderedDemo:
    """The demo issue rendered once for the session, with what a reader should find in it."""

    title: str
    document_html: str
    content_hash: str
    published: bytes
    published_again: bytes
    draft: bytes
    sections: list  # [(section label, [(story title, [company names])])]
    themes: list

    def reader(self, data=None):
        return PdfReader(io.BytesIO(self.published if data is None else data))


@pytest.fixture(scope="session")
def rendered_demo(django_db_setup, django_db_blocker):
    """Render the published demo issue (twice) and its DRAFT preview, then roll the data back.

    Rendering takes about a second each: the suite does it once, not once per test.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        issue = import_issue(DEMO_ISSUE.read_text(encoding="utf-8"), replace=True)
        issue.state, issue.published_at = IssueState.PUBLISHED, PUBLISHED_AT
        issue.save(update_fields=["state", "published_at"])
        document = issue_document(issue)
        sections = [
            (
                section.label,
                [
                    (placement.story.title, [company.name for company in placement.story.companies.all()])
                    for placement in issue.placements.filter(section=section).order_by("position")
                ],
            )
            for section in Section
        ]
        themes = sorted({theme.name for p in issue.placements.all() for theme in p.story.themes.all()})
        demo = RenderedDemo(
            title=issue.title,
            document_html=document.html,
            content_hash=document.content_hash,
            published=render_document(document).data,
            published_again=render_document(issue_document(issue)).data,
            draft=render_document(issue_document(issue, draft=True)).data,
            sections=sections,
            themes=themes,
        )
        transaction.set_rollback(True)
    return demo
