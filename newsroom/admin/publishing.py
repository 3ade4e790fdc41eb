"""Publication and correction runs in the admin: every run's steps, failures and retries,
and the report. (Page purges waiting for the cache are the reader site's: its own admin.)"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from digest import publishing
from digest.models import UNFINISHED_RUN_STATES, Issue, IssueState, PublicationRun, PublicationStep, RunState
from digest.workflow import TransitionNotAllowed

from ..panels import report_sections


class PublicationStepInline(admin.TabularInline):
    model = PublicationStep
    fields = ["position", "name", "status", "attempts", "started_at", "finished_at", "retry_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PublicationRun)
class PublicationRunAdmin(admin.ModelAdmin):
    list_display = ["issue", "kind", "state", "requested_by", "created_at", "finished_at", "step_summary", "last_error"]
    list_filter = ["kind", "state"]
    list_select_related = ["issue", "requested_by"]
    search_fields = ["issue__title", "issue__slug"]
    readonly_fields = ["issue", "kind", "state", "requested_by", "created_at", "finished_at", "last_error"]
    inlines = [PublicationStepInline]
    change_list_template = "admin/digest/publicationrun/change_list.html"

    def get_queryset(self, request):
        steps = Prefetch("steps", queryset=PublicationStep.objects.order_by("position"))
        return super().get_queryset(request).prefetch_related(steps)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Steps")
    def step_summary(self, run):
        marks = {"done": "✓", "failed": "✗", "running": "…", "pending": "·"}
        return " ".join(f"{marks[step.status]} {step.name}" for step in run.steps.all())

    def get_urls(self):
        return [
            path("report/", self.admin_site.admin_view(self.report_view), name="digest_publicationrun_report"),
            path(
                "<int:run_id>/retry/",
                self.admin_site.admin_view(require_POST(self.retry_view)),
                name="digest_publicationrun_retry",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_retry": request.user.has_perm("digest.publish_issue")}
        return super().change_view(request, object_id, form_url, extra_context)

    def retry_view(self, request, run_id):
        run = get_object_or_404(PublicationRun, pk=run_id)
        try:
            publishing.retry_run(run=run, by=request.user)
        except (PermissionDenied, TransitionNotAllowed) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Retrying the publication of {run.issue}: queued.")
        # ``next`` is whatever the form posted: follow it only to a page of this site.
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:digest_publicationrun_change", args=[run.pk])
        return redirect(next_url)

    def report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        runs = self.get_queryset(request).select_related("issue", "requested_by")
        context = {
            **self.admin_site.each_context(request),
            "title": "Publishing",
            "opts": self.model._meta,
            "now": now,
            "scheduled": Issue.objects.filter(state=IssueState.SCHEDULED, publish_at__gt=now).order_by("publish_at"),
            "overdue": publishing.overdue_issues(now).order_by("publish_at"),
            "running": runs.filter(state__in=UNFINISHED_RUN_STATES),
            "failed": runs.filter(state=RunState.FAILED),
            "recent": runs.filter(state=RunState.COMPLETED)[:10],
            "can_retry": request.user.has_perm("digest.publish_issue"),
            "sections": report_sections(request, now),  # the channel apps' own (newsroom.panels)
        }
        return TemplateResponse(request, "admin/digest/publishing_report.html", context)
