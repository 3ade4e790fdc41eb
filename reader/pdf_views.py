"""Serve the stored PDF edition of a published issue, as a file, never rendering it.

From the local disk the file is sent by this view. From object storage (``MEDIA_BUCKET``)
the view answers with a redirect to a signed address of the object that expires after
``MEDIA_URL_EXPIRE_SECONDS``: the bytes go from the storage to the reader, never through a
web worker. The redirect is never stored by a cache (its signature expires); the object is
deleted when the issue is withdrawn or its PDF replaced, so an address handed out before
stops working too.
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from digest.edition import edition_filename
from digest.models import Issue, IssueState

from . import keys
from .front_cache import shared_cache_control
from .page_cache import add_keys

# The file behind the URL changes after a correction: caches keep it briefly, then revalidate.
MAX_AGE = 300
RETRY_AFTER = 60


@require_safe
def issue_pdf(request, slug):
    """Serve ``/issues/<slug>.pdf``: the stored file inline, or 503 while it is being prepared.

    A withdrawn issue's PDF is gone (410), as its page is.
    """
    issue = Issue.objects.published().filter(slug=slug).first()
    if issue is None:
        if Issue.objects.filter(slug=slug, state=IssueState.WITHDRAWN).exists():
            return render(request, "410.html", status=410)
        raise Http404("No published issue at this address.")
    add_keys(request, keys.issue_key(issue.pk))  # a front cache drops it when a new edition is stored
    if not issue.pdf:
        return _being_prepared()
    if not isinstance(issue.pdf.storage, FileSystemStorage):
        return _signed_redirect(issue)
    etag = f'"{issue.pdf_content_hash}"'
    last_modified = issue.pdf_rendered_at.timestamp()
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        try:
            file = issue.pdf.open("rb")
        except FileNotFoundError:
            return _being_prepared()
        response = FileResponse(file, content_type="application/pdf", filename=edition_filename(issue))
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return shared_cache_control(response, max_age=MAX_AGE)  # until a new edition purges the issue


def _signed_redirect(issue):
    """Send the reader to a short-lived signed address of the object, named and typed as a PDF."""
    url = issue.pdf.storage.url(
        issue.pdf.name,
        parameters={
            "ResponseContentType": "application/pdf",
            "ResponseContentDisposition": f'inline; filename="{edition_filename(issue)}"',
        },
        expire=settings.MEDIA_URL_EXPIRE_SECONDS,
    )
    response = HttpResponseRedirect(url)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _being_prepared():
    response = HttpResponse(
        "The PDF of this issue is being prepared. Please try again in a minute.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER)
    patch_cache_control(response, no_store=True)
    return response
