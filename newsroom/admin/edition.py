"""The PDF edition in the Issue admin: a DRAFT preview prepared by a worker, and the stored file's state."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods

from digest.edition import edition_filename
from digest.edition_preview import request_preview
from digest.models import PreviewState

# Seconds between reloads of the "being prepared" page (a <meta> refresh: no script, CSP).
PREVIEW_REFRESH_SECONDS = 3


class IssuePDFAdminMixin:
    """Add the PDF preview view and a "PDF edition" section to an Issue ModelAdmin."""

    def get_urls(self):
        preview = path(
            "<path:object_id>/pdf-preview/",
            self.admin_site.admin_view(require_http_methods(["GET", "HEAD", "POST"])(self.pdf_preview_view)),
            name="digest_issue_pdf_preview",
        )
        return [preview, *super().get_urls()]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "pdf_edition"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("PDF edition", {"fields": ["pdf_edition"]})]

    @admin.display(description="PDF")
    def pdf_edition(self, issue):
        preview = format_html(
            '<a href="{}" target="_blank">Preview the PDF</a> (prepared by a worker, marked DRAFT)',
            reverse("admin:digest_issue_pdf_preview", args=[issue.pk]),
        )
        if not issue.pdf:
            return format_html("{}<br>No stored PDF: it is made when the issue is published.", preview)
        return format_html(
            '{}<br>Published PDF: <a href="{}">{}</a>, {} pages, {}, rendered {}.',
            preview,
            reverse("issue_pdf", kwargs={"slug": issue.slug}),
            edition_filename(issue),
            issue.pdf_pages,
            filesizeformat(issue.pdf_size),
            localize(localtime(issue.pdf_rendered_at)),
        )

    def pdf_preview_view(self, request, object_id):
        """Answer at once with the issue's DRAFT PDF, or a page saying it is being prepared.

        A GET asks for the preview of the issue as it is now (reusing a stored render when
        nothing changed); a POST asks again after a failed render.
        """
        issue = self.get_object(request, unquote(object_id))
        if issue is None:
            raise Http404("No such issue.")
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        retry = request.method == "POST"
        preview = request_preview(issue=issue, retry=retry)
        if retry:
            return HttpResponseRedirect(request.path)
        if preview.state == PreviewState.READY:
            try:
                file = preview.file.open("rb")
            except FileNotFoundError:
                file = None  # removed since it was checked: the next GET asks again
            if file is not None:
                response = FileResponse(
                    file, content_type="application/pdf", filename=edition_filename(issue, draft=True)
                )
                response["Cache-Control"] = "private, no-store"
                return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "issue": issue,
            "preview": preview,
            "failed": preview.state == PreviewState.FAILED,
            "refresh_seconds": PREVIEW_REFRESH_SECONDS,
            "title": f"PDF preview of {issue}",
        }
        response = TemplateResponse(request, "admin/digest/issue/pdf_preview.html", context)
        add_never_cache_headers(response)
        return response
