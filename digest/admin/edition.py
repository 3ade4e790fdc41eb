"""The PDF edition in the Issue admin: a live DRAFT preview, and the stored file's state."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.timezone import localtime

from ..edition import edition_filename, render_edition
from ..pdf import PDFRenderError


class IssuePDFAdminMixin:
    """Add the PDF preview view and a "PDF edition" section to an Issue ModelAdmin."""

    def get_urls(self):
        preview = path(
            "<path:object_id>/pdf-preview/",
            self.admin_site.admin_view(self.pdf_preview_view),
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
            '<a href="{}" target="_blank">Preview the PDF</a> (rendered now, marked DRAFT)',
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
        """Render the issue as a PDF marked DRAFT on every page, for staff who may view it."""
        issue = self.get_object(request, unquote(object_id))
        if issue is None:
            raise Http404("No such issue.")
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        try:
            rendered = render_edition(issue, draft=True)
        except PDFRenderError as error:
            self.message_user(request, f"The PDF preview could not be made. {error}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:digest_issue_change", args=[issue.pk]))
        response = HttpResponse(rendered.data, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(False, edition_filename(issue, draft=True))
        response["Cache-Control"] = "private, no-store"
        return response
