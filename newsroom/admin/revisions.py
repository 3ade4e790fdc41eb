"""Revision history in the admin: field-by-field differences and one-click restore."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from digest.revisions import restore_revision
from digest.workflow import TransitionNotAllowed


class RevisionsAdmin(SimpleHistoryAdmin):
    """History with a Restore button per revision (restoring is itself a new revision)."""

    object_history_list_template = "admin/revision_list.html"
    history_list_per_page = 50

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/history/<int:history_id>/restore/",
                self.admin_site.admin_view(require_POST(self.restore_view)),
                name=f"{opts.app_label}_{opts.model_name}_restore",
            ),
            *super().get_urls(),
        ]

    def revert_disabled(self, request, obj=None):
        # simple-history's own revert form would not bring back sources or placements.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Show a revision read-only; restoring one goes through ``restore_view`` only.

        simple-history's form saves the revision as it stood, workflow state included, and
        checks permissions against the revision rather than the live row: it would
        unpublish an issue, bring a withdrawn one back to scheduled, or change published
        content with no correction. Hiding its button (``revert_disabled``) is not enough.
        """
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(
                ["GET", "HEAD"],
                "Revisions are read-only here. Use “Restore this revision” on the history page.",
                content_type="text/plain; charset=utf-8",
            )
        return super().history_form_view(request, object_id, version_id, extra_context)

    def restore_view(self, request, object_id, history_id):
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        # A revision id from another object's history (a tampered URL) is not this object's.
        get_object_or_404(obj.history, history_id=history_id)
        opts = self.model._meta
        try:
            restore_revision(obj=obj, history_id=history_id, by=request.user)
        except (TransitionNotAllowed, PermissionDenied) as error:
            messages.error(request, str(error) or "You may not restore this revision.")
            return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
        messages.success(request, f"Restored “{obj}” to the chosen revision; that is now its newest revision.")
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
