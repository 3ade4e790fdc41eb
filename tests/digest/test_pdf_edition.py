"""The stored PDF edition: rendered when its content changes, served as a file, previewed by editors."""

import datetime
import io
import shutil

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from freezegun import freeze_time
from pypdf import PdfReader

from digest.edition import IssueNotPublished, issue_document, store_issue_pdf
from digest.models import IssueState
from digest.tasks import render_issue_pdf
from tests.factories import IssueFactory, PlacementFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def issue():
    """A small published issue: one story, so a render costs well under a second."""
    issue = IssueFactory(published=True, slug="2026-04-18", title="Engineering @ Scale — Week of 2026-04-18")
    PlacementFactory(issue=issue, story__title="Durable execution, embedded")
    return issue


def pdf_text(data):
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_store_renders_once_and_again_only_when_the_content_changes(issue, django_capture_on_commit_callbacks):
    assert store_issue_pdf(issue) is True
    first_name, first_rendered_at = issue.pdf.name, issue.pdf_rendered_at
    issue.refresh_from_db()
    assert issue.pdf.name == first_name and issue.pdf_content_hash == issue_document(issue).content_hash
    data = issue.pdf.read()
    assert issue.pdf_size == len(data) and issue.pdf_pages == len(PdfReader(io.BytesIO(data)).pages)
    assert "Durable execution, embedded" in pdf_text(data)

    assert store_issue_pdf(issue) is False  # unchanged: not rendered, not rewritten
    issue.refresh_from_db()
    assert (issue.pdf.name, issue.pdf_rendered_at) == (first_name, first_rendered_at)

    issue.pdf.storage.delete(first_name)  # lost from storage: rendered again, same bytes
    assert store_issue_pdf(issue) is True
    assert issue.pdf.name == first_name and issue.pdf.read() == data

    story = issue.placements.get().story
    story.title = "Durable execution, embedded (corrected)"
    story.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert store_issue_pdf(issue) is True
    assert issue.pdf.name != first_name
    assert "(corrected)" in pdf_text(issue.pdf.read())
    assert not issue.pdf.storage.exists(first_name)  # the superseded file is gone once committed


def test_a_stylesheet_or_font_change_changes_the_content_hash(issue, settings, tmp_path):
    before = issue_document(issue).content_hash
    static = tmp_path / "static"
    shutil.copytree(settings.STATICFILES_DIRS[0], static)
    with (static / "pdf" / "print.css").open("a") as stylesheet:
        stylesheet.write("\n.story-title { color: black; }\n")
    with override_settings(STATICFILES_DIRS=[static]):
        assert issue_document(issue).content_hash != before


def test_only_a_published_issue_gets_a_stored_pdf():
    for state in (IssueState.DRAFT, IssueState.SCHEDULED, IssueState.WITHDRAWN):
        draft = IssueFactory(state=state)
        with pytest.raises(IssueNotPublished):
            store_issue_pdf(draft)
        render_issue_pdf.delay(draft.pk)  # the task leaves it alone
        draft.refresh_from_db()
        assert not draft.pdf


def test_task_stores_the_pdf_and_the_command_then_finds_it_current(issue):
    render_issue_pdf.delay(issue.pk)
    issue.refresh_from_db()
    assert issue.pdf and issue.pdf_pages >= 3
    data = issue.pdf.read()
    source = issue.placements.get().story.sources.get()
    links = {
        annotation.get_object()["/A"].get("/URI")
        for page in PdfReader(io.BytesIO(data)).pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    }
    assert source.url in links  # the source is a clickable link...
    assert source.url in " ".join(pdf_text(data).split())  # ...whose URL is printed
    render_issue_pdf.delay(issue.pk + 1000)  # a deleted issue is not an error

    out = io.StringIO()
    call_command("render_pdfs", "--all", stdout=out)
    assert f"[{'#' * 30}] 1/1 {issue.slug}: current" in out.getvalue()

    issue.title = "Engineering @ Scale — Week of 2026-04-18, corrected"
    issue.save()
    out = io.StringIO()
    call_command("render_pdfs", issue.slug, stdout=out)
    assert f"1/1 {issue.slug}: rendered" in out.getvalue()


def test_command_needs_published_slugs_or_all():
    draft = IssueFactory(slug="2026-05-02")
    with pytest.raises(CommandError, match="by slug, or give --all"):
        call_command("render_pdfs")
    with pytest.raises(CommandError, match="by slug, or give --all"):
        call_command("render_pdfs", "--all", "2026-05-02")
    with pytest.raises(CommandError, match="No published issue with the slug 2026-05-02, nope"):
        call_command("render_pdfs", draft.slug, "nope")


def test_pdf_is_served_inline_with_its_name_length_etag_and_cache_headers(client, issue, django_assert_max_num_queries):
    store_issue_pdf(issue)
    issue.refresh_from_db()
    with django_assert_max_num_queries(1):
        response = client.get("/issues/2026-04-18.pdf")
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="engineering-at-scale-2026-04-18.pdf"'
    assert int(response["Content-Length"]) == len(body) == issue.pdf_size
    assert body == issue.pdf.read()
    assert response["ETag"] == f'"{issue.pdf_content_hash}"'
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response["Last-Modified"]

    revalidated = client.get("/issues/2026-04-18.pdf", headers={"if-none-match": response["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated["ETag"] == response["ETag"]


def test_published_issue_without_its_pdf_yet_is_being_prepared(client):
    IssueFactory(published=True, slug="2026-05-02")
    response = client.get("/issues/2026-05-02.pdf")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    assert "being prepared" in response.content.decode()


def test_pdf_of_an_unpublished_issue_is_not_found(client):
    for state in (IssueState.DRAFT, IssueState.IN_REVIEW, IssueState.SCHEDULED):
        IssueFactory(state=state, slug=f"secret-{state}")
        assert client.get(f"/issues/secret-{state}.pdf").status_code == 404
    assert client.get("/issues/no-such-issue.pdf").status_code == 404


# The DRAFT preview's journey (asked, rendered by a worker, served): tests/digest/test_pdf_preview.py.


def test_nobody_but_staff_who_may_view_the_issue_gets_a_preview(client):
    draft = IssueFactory(state=IssueState.DRAFT)
    preview_url = reverse("admin:digest_issue_pdf_preview", args=[draft.pk])
    assert client.get(preview_url).status_code == 302  # to the login page

    client.force_login(UserFactory(username="reader"))
    assert client.get(preview_url).status_code == 302

    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    assert client.get(preview_url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_issue"))
    assert client.get(reverse("admin:digest_issue_pdf_preview", args=[draft.pk + 1000])).status_code == 404


def test_a_corrected_pdf_carries_its_corrections_and_its_modification_date(issue):
    from digest.models import Correction

    store_issue_pdf(issue)
    first = PdfReader(io.BytesIO(issue.pdf.read())).metadata
    issue.pdf.close()
    Correction.objects.create(issue=issue, note="The outage lasted two hours, not four.")
    with freeze_time(issue.published_at + datetime.timedelta(days=2)):
        assert store_issue_pdf(issue) is True
    data = issue.pdf.read()
    assert "The outage lasted two hours, not four." in pdf_text(data)
    corrected = PdfReader(io.BytesIO(data)).metadata
    assert corrected.creation_date == first.creation_date
    assert corrected.modification_date > corrected.creation_date


def test_the_pdf_of_a_withdrawn_issue_is_gone(client, issue):
    store_issue_pdf(issue)
    url = reverse("issue_pdf", kwargs={"slug": issue.slug})
    assert client.get(url).status_code == 200
    issue.state = IssueState.WITHDRAWN
    issue.save()
    assert client.get(url).status_code == 410
