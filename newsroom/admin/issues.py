import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from digest import previews, publishing, workflow
from digest.checklist import run_checklist
from digest.issue_page import issue_page
from digest.models import Issue, Placement
from newsroom.panels import issue_panels

from .approval import ApprovedContentAdmin
from .corrections import CorrectionAdmin
from .edition import IssuePDFAdminMixin
from .protection import ProtectPublishedAdmin
from .revisions import RevisionsAdmin


class PlacementFormSet(BaseInlineFormSet):
    """Label each row's story from the rows already loaded.

    The autocomplete widget would otherwise run one query per row to show the chosen
    story's title: 40 queries for a 40-story issue.
    """

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if not hasattr(self, "_story_labels"):
            self._story_labels = {str(placement.story_id): str(placement.story) for placement in self.get_queryset()}
        form.fields["story"].widget.widget.known_labels = self._story_labels
        return form


class KnownLabelAutocompleteSelect(admin.widgets.AutocompleteSelect):
    known_labels = {}

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not selected or not all(v in self.known_labels for v in selected):
            return super().optgroups(name, value, attr)
        options = [self.create_option(name, "", "", False, 0)] if not self.is_required else []
        options += [
            self.create_option(name, v, self.known_labels[v], True, index)
            for index, v in enumerate(selected, start=len(options))
        ]
        return [(None, options, 0)]


class PlacementInline(admin.TabularInline):
    model = Placement
    formset = PlacementFormSet
    fields = ["section", "position", "story"]
    autocomplete_fields = ["story"]
    ordering = ["section", "position", "id"]
    extra = 1
    verbose_name = "story"
    verbose_name_plural = "Stories, by section and position"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("issue", "story")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "story":
            kwargs["widget"] = KnownLabelAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _issue_editable(self, request, obj):
        return obj is None or workflow.can_edit_issue(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._issue_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._issue_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._issue_editable(request, obj)


@admin.register(Issue)
class IssueAdmin(ApprovedContentAdmin, ProtectPublishedAdmin, IssuePDFAdminMixin, CorrectionAdmin, RevisionsAdmin):
    list_display = ["number", "title", "week_start", "week_end", "state", "publish_at", "published_at", "story_count"]
    list_display_links = ["number", "title"]
    list_filter = ["state"]
    search_fields = ["title", "slug", "=number"]
    date_hierarchy = "week_start"
    prepopulated_fields = {"slug": ["week_start"]}
    readonly_fields = ["state", "publish_at", "published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["number", "title", "slug", ("week_start", "week_end"), "seen_version"]}),
        ("Texts", {"fields": ["week_in_review", "patterns"]}),
        ("Publication", {"fields": ["state", "publish_at", "published_at", "created_at", "updated_at"]}),
    ]
    inlines = [PlacementInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(story_count=Count("placements")).order_by(*Issue._meta.ordering)

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, issue):
        return issue.story_count

    def issue_of(self, issue):
        return issue

    def ensure_can_edit(self, user, issue):
        workflow.ensure_can_edit_issue(user, issue)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or workflow.can_edit_issue(request.user, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or workflow.can_edit_issue(request.user, obj)
        )

    # Workflow -----------------------------------------------------------------------------

    def get_urls(self):
        def view(function, post_only=True):
            wrapped = require_POST(function) if post_only else function
            return self.admin_site.admin_view(wrapped)

        return [
            path("<int:object_id>/transition/<str:name>/", view(self.transition_view), name="digest_issue_transition"),
            path("<int:object_id>/preview/", view(self.preview_view, post_only=False), name="digest_issue_preview"),
            path("<int:object_id>/share/", view(self.share_view), name="digest_issue_share"),
            path("<int:object_id>/revoke-links/", view(self.revoke_links_view), name="digest_issue_revoke_links"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self.get_object(request, object_id)
        if issue is not None:
            extra_context = {
                **(extra_context or {}),
                "checklist": run_checklist(issue),
                "transitions": workflow.available_transitions(issue, request.user),
                "events": issue.events.select_related("actor")[:50],
                "corrections": issue.corrections.all(),
                "runs": issue.publication_runs.prefetch_related("steps")[:5],
                "overdue": issue.state == "scheduled" and issue.publish_at and issue.publish_at <= timezone.now(),
                "site_time_zone": settings.TIME_ZONE,
                "can_share": request.user.has_perm("digest.publish_issue"),
                "share_days": previews.DEFAULT_DAYS,
                "panels": issue_panels(request, issue),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _issue_or_404(self, request, object_id):
        issue = get_object_or_404(Issue, pk=object_id)
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        return issue

    def _back(self, issue):
        return redirect(reverse("admin:digest_issue_change", args=[issue.pk]))

    def transition_view(self, request, object_id, name):
        issue = self._issue_or_404(request, object_id)
        action = publishing.ACTIONS.get(name)
        if action is None:
            messages.error(request, "Unknown workflow action.")
            return self._back(issue)
        kwargs = {"issue": issue, "by": request.user, "comment": request.POST.get("comment", "")}
        try:
            if name == "schedule":
                kwargs["publish_at"] = _parse_local_datetime(request.POST.get("publish_at", ""))
            action(**kwargs)
        except workflow.ChecklistFailed as error:
            messages.error(request, f"“{workflow.TRANSITIONS[name].label}” is blocked until these are fixed:")
            for item in error.checklist.blocking:
                messages.error(request, item)
        except (workflow.TransitionNotAllowed, PermissionDenied, ValueError) as error:
            messages.error(request, str(error) or "You may not do that.")
        else:
            if name == "publish":
                messages.success(
                    request,
                    f"Issue #{issue.number} is queued for publication. It goes live when a worker runs it: "
                    "within seconds, or at the scheduler's next check (every minute) once the task queue "
                    "answers if it is down. The Publishing report shows where it is.",
                )
            else:
                messages.success(request, f"Issue #{issue.number} is now {issue.get_state_display().lower()}.")
        return self._back(issue)

    def preview_view(self, request, object_id):
        issue = self._issue_or_404(request, object_id)
        return issue_page(request, issue, preview=True)

    def share_view(self, request, object_id):
        issue = self._issue_or_404(request, object_id)
        try:
            days = int(request.POST.get("days", previews.DEFAULT_DAYS))
            token, expires = previews.make_share_token(issue=issue, by=request.user, days=days)
        except (PermissionDenied, ValueError) as error:
            messages.error(request, str(error) or "You may not share previews.")
        else:
            url = request.build_absolute_uri(reverse("issue_share_preview", args=[token]))
            messages.success(request, f"Share link, valid until {timezone.localtime(expires):%d %b %Y %H:%M %Z}: {url}")
        return self._back(issue)

    def revoke_links_view(self, request, object_id):
        issue = self._issue_or_404(request, object_id)
        try:
            previews.revoke_share_links(issue=issue, by=request.user)
        except PermissionDenied as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Every share link of this issue made so far now answers “expired or invalid”.")
        return self._back(issue)


def _parse_local_datetime(value):
    """Read an <input type=datetime-local> value as a time in the site's time zone."""
    try:
        naive = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"“{value}” is not a date and time; use the picker or YYYY-MM-DD HH:MM.") from None
    return timezone.make_aware(naive) if timezone.is_naive(naive) else naive
