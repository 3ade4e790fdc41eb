"""The admin's DRAFT PDF preview: asked for on a request, rendered by a worker, reused while unchanged."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from digest.edition_preview import MAX_ATTEMPTS, stale_render_after
from digest.models import IssueState, PDFPreview, PreviewState
from digest.tasks import render_pdf_preview, resume_pdf_previews
from tests.factories import IssueFactory, PlacementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft():
    issue = IssueFactory(state=IssueState.DRAFT, title="Next week, not yet reviewed")
    PlacementFactory(issue=issue, story__title="A story still being written")
    return issue


def preview_url(issue):
    return reverse("admin:digest_issue_pdf_preview", args=[issue.pk])


def pdf_text(data):
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def being_prepared(response):
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return False  # before the fix: the PDF itself, rendered on the request
    html = response.content.decode()
    return "The PDF preview is being prepared" in html and '<meta http-equiv="refresh" content="3">' in html


def get_without_running_workers(client, url, capture):
    """GET ``url``, keeping the tasks it queues on commit; return the response and those tasks."""
    with capture(execute=False) as callbacks:
        response = client.get(url)
    return response, callbacks


def test_preview_is_prepared_by_a_worker_served_when_ready_and_again_after_a_change(
    admin_client, draft, django_capture_on_commit_callbacks
):
    change_page = admin_client.get(reverse("admin:digest_issue_change", args=[draft.pk])).content.decode()
    assert f'href="{preview_url(draft)}"' in change_page

    # The request only asks: it answers at once, before any render.
    response, queued = get_without_running_workers(admin_client, preview_url(draft), django_capture_on_commit_callbacks)
    assert being_prepared(response)
    assert "no-store" in response["Cache-Control"]
    assert len(queued) == 1
    assert PDFPreview.objects.get(issue=draft).state == PreviewState.REQUESTED

    for task in queued:  # the worker (Celery, eager)
        task()
    response = admin_client.get(preview_url(draft))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline;") and "-draft.pdf" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    pages = PdfReader(io.BytesIO(data)).pages
    assert all("DRAFT" in page.extract_text() for page in pages)
    assert "A story still being written" in pdf_text(data)

    # Unchanged: the stored render is served again, nothing is queued.
    response, queued = get_without_running_workers(admin_client, preview_url(draft), django_capture_on_commit_callbacks)
    assert response["Content-Type"] == "application/pdf" and b"".join(response.streaming_content) == data
    assert queued == []

    # Changed: prepared again, then the new text is in the PDF.
    PlacementFactory(issue=draft, story__title="A late addition")
    response, queued = get_without_running_workers(admin_client, preview_url(draft), django_capture_on_commit_callbacks)
    assert being_prepared(response)
    for task in queued:
        task()
    response = admin_client.get(preview_url(draft))
    assert response["Content-Type"] == "application/pdf"
    assert "A late addition" in pdf_text(b"".join(response.streaming_content))
    assert PDFPreview.objects.count() == 1


def test_a_preview_no_worker_took_is_queued_by_the_beat(admin_client, draft, django_capture_on_commit_callbacks):
    # The broker lost the message: nothing runs the queued task.
    response, _ = get_without_running_workers(admin_client, preview_url(draft), django_capture_on_commit_callbacks)
    assert being_prepared(response)
    PDFPreview.objects.update(requested_at=timezone.now() - datetime.timedelta(minutes=2))
    resume_pdf_previews.delay()
    assert admin_client.get(preview_url(draft))["Content-Type"] == "application/pdf"


def test_a_render_whose_worker_died_is_retried_by_the_beat_then_given_up(
    admin_client, draft, django_capture_on_commit_callbacks
):
    get_without_running_workers(admin_client, preview_url(draft), django_capture_on_commit_callbacks)
    preview = PDFPreview.objects.get()
    long_ago = timezone.now() - stale_render_after() - datetime.timedelta(seconds=1)
    # A worker claimed it and was killed mid-render.
    PDFPreview.objects.update(state=PreviewState.RENDERING, started_at=long_ago, attempts=1)
    assert being_prepared(admin_client.get(preview_url(draft)))
    resume_pdf_previews.delay()
    assert admin_client.get(preview_url(draft))["Content-Type"] == "application/pdf"

    # Killed every time: after MAX_ATTEMPTS the page says so, and stops reloading.
    PlacementFactory(issue=draft, story__title="Changed again")
    get_without_running_workers(admin_client, preview_url(draft), django_capture_on_commit_callbacks)
    PDFPreview.objects.update(state=PreviewState.RENDERING, started_at=long_ago, attempts=MAX_ATTEMPTS)
    resume_pdf_previews.delay()
    preview.refresh_from_db()
    assert preview.state == PreviewState.FAILED
    html = admin_client.get(preview_url(draft)).content.decode()
    assert f"interrupted {MAX_ATTEMPTS} times" in html and 'http-equiv="refresh"' not in html


def test_a_failed_render_is_shown_and_can_be_asked_again(
    admin_client, draft, settings, django_capture_on_commit_callbacks
):
    settings.PDF_RENDER_TIMEOUT = 0.001
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.get(preview_url(draft))
    response = admin_client.get(preview_url(draft))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The PDF preview could not be made" in html and "took longer than" in html
    assert 'http-equiv="refresh"' not in html

    settings.PDF_RENDER_TIMEOUT = 60.0
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(preview_url(draft)).status_code == 302
    assert admin_client.get(preview_url(draft))["Content-Type"] == "application/pdf"


def test_a_task_for_a_preview_already_done_does_nothing(admin_client, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.get(preview_url(draft))
    preview = PDFPreview.objects.get()
    assert preview.state == PreviewState.READY
    render_pdf_preview.delay(preview.pk)  # a duplicate message
    assert PDFPreview.objects.get().finished_at == preview.finished_at
