"""The newsletter in the newsroom: subscribers (import, export, audit), mailings (progress, pause,
resume, cancel, failures), each issue's options, and a test send."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from digest.models import Issue

from . import sending, subscriptions
from .models import (
    ErasedAddress,
    IssueNewsletter,
    Mailing,
    Notice,
    Recipient,
    RecipientStatus,
    Subscriber,
    SubscriberEvent,
)


class SubscriberEventInline(admin.TabularInline):
    model = SubscriberEvent
    fields = ["created_at", "actor", "from_status", "to_status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns email and consent (yes or no). At most 5 MB.")
    source = forms.CharField(
        max_length=150, help_text="Where the consent came from, e.g. “Conference sign-up sheet, May 2026”."
    )


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "consent_source", "created_at", "confirmed_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    fields = ["email", "status", "consent_source", "created_at", "confirmed_at"]
    readonly_fields = ["email", "consent_source", "created_at", "confirmed_at"]
    inlines = [SubscriberEventInline]
    actions = ["export_csv", "erase_selected"]
    change_list_template = "admin/newsletter/subscriber/change_list.html"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # subscribers come from the form or an import, with their consent recorded

    def has_delete_permission(self, request, obj=None):
        return False  # erasure (an action) keeps the hash; a plain delete would not

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            new_status = obj.status
            obj.status = form.initial["status"]
            subscriptions.set_status(subscriber=obj, status=new_status, by=request.user)

    @admin.action(description="Export the selected subscribers as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(subscriptions.export_csv(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{timezone.now():%Y-%m-%d}.csv"'
        return response

    @admin.action(description="Erase the selected subscribers (keeps only a keyed hash)", permissions=["change"])
    def erase_selected(self, request, queryset):
        count = 0
        for subscriber in queryset:
            subscriptions.erase(subscriber=subscriber, by=request.user)
            count += 1
        messages.success(request, f"Erased {count} subscriber{'s' if count != 1 else ''}.")

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="newsletter_subscriber_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > subscriptions.MAX_IMPORT_BYTES:
                form.add_error("file", "The file is larger than 5 MB.")
            else:
                try:
                    counts = subscriptions.import_csv(
                        upload.read(), by=request.user, source=f"{form.cleaned_data['source']} ({upload.name[:60]})"
                    )
                except subscriptions.ImportError_ as error:
                    form.add_error("file", f"Nothing was imported. {error}")
                else:
                    summary = ", ".join(f"{count} {what}" for what, count in counts.items())
                    messages.success(request, f"Imported: {summary}.")
                    return redirect("admin:newsletter_subscriber_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import subscribers",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/newsletter/subscriber/import.html", context)


@admin.register(Mailing)
class MailingAdmin(admin.ModelAdmin):
    list_display = ["issue", "state", "progress_summary", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["issue"]
    fields = ["issue", "state", "subject", "preheader", "shortened", "total", "requested_by", "created_at",
              "last_progress_at", "finished_at", "last_error"]  # fmt: skip
    readonly_fields = fields
    change_form_template = "admin/newsletter/mailing/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The counts of every mailing on the page in the page's one query, not one query a row.
        return sending.with_counts(super().get_queryset(request).defer("html", "text"))

    @admin.display(description="Progress")
    def progress_summary(self, mailing):
        stalled = " — STALLED" if sending.is_stalled(mailing, pending=mailing.pending_count) else ""
        return (
            f"{mailing.sent_count} sent, {mailing.pending_count} pending, {mailing.failed_count} failed "
            f"of {mailing.total}{stalled}"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            mailing = Mailing.objects.filter(pk=Mailing._meta.pk.to_python(unquote(object_id))).first()
        except ValidationError:  # not a number: no mailing has it
            mailing = None
        if mailing is None:
            return super().change_view(request, object_id, form_url, extra_context)  # the admin's "does not exist"
        extra_context = {
            **(extra_context or {}),
            "progress": sending.progress(mailing),
            "mailing": mailing,
            "can_act": request.user.has_perm("digest.publish_issue"),
            "failures": Recipient.objects.filter(mailing=mailing, status=RecipientStatus.FAILED)
            .only("email", "attempts", "last_error")
            .order_by("id")[:200],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(require_POST(function))

        return [
            path("<int:mailing_id>/do/<str:action>/", view(self.action_view), name="newsletter_mailing_action"),
            path("test/<int:issue_id>/", view(self.test_send_view), name="newsletter_mailing_test_send"),
            path("again/<int:issue_id>/", view(self.mail_again_view), name="newsletter_mailing_mail_again"),
            *super().get_urls(),
        ]

    ACTIONS = {"pause": sending.pause, "resume": sending.resume, "cancel": sending.cancel}

    def action_view(self, request, mailing_id, action):
        mailing = get_object_or_404(Mailing, pk=mailing_id)
        if action not in self.ACTIONS:
            raise PermissionDenied
        try:
            mailing = self.ACTIONS[action](mailing=mailing, by=request.user)
        except sending.MailingNotAllowed as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"The mailing is {mailing.get_state_display().lower()}.")
        return redirect("admin:newsletter_mailing_change", mailing.pk)

    def test_send_view(self, request, issue_id):
        issue = get_object_or_404(Issue, pk=issue_id)
        try:
            sending.send_test(issue=issue, by=request.user)
        except sending.MailingNotAllowed as error:
            messages.error(request, str(error))
        except (OSError, Exception) as error:  # the mail server's refusal, shown to the publisher
            if isinstance(error, PermissionDenied):
                raise
            messages.error(request, f"The test could not be sent: {sending.classify(error).answer}")
        else:
            messages.success(request, f"A test of the newsletter went to {request.user.email}.")
        return redirect("admin:digest_issue_change", issue.pk)

    def mail_again_view(self, request, issue_id):
        issue = get_object_or_404(Issue, pk=issue_id)
        try:
            mailing = sending.start_mailing(issue=issue, by=request.user)
        except sending.MailingNotAllowed as error:
            messages.error(request, str(error))
            return redirect("admin:digest_issue_change", issue.pk)
        messages.success(request, f"Mailing {issue} again to {mailing.total} subscribers.")
        return redirect("admin:newsletter_mailing_change", mailing.pk)


class IssueNewsletterForm(forms.ModelForm):
    class Meta:
        model = IssueNewsletter
        fields = ["enabled", "subject", "preheader"]

    def clean_subject(self):
        return _one_line(self.cleaned_data["subject"])

    def clean_preheader(self):
        return _one_line(self.cleaned_data["preheader"])


def _one_line(value):
    if "\n" in value or "\r" in value:
        raise forms.ValidationError("One line only.")
    return value.strip()


@admin.register(IssueNewsletter)
class IssueNewsletterAdmin(admin.ModelAdmin):
    form = IssueNewsletterForm
    list_display = ["issue", "enabled", "subject"]
    list_select_related = ["issue"]
    readonly_fields = ["issue"]

    def has_add_permission(self, request):
        return False  # opened from the issue's page (``for_issue``)

    def get_urls(self):
        return [
            path(
                "issue/<int:issue_id>/",
                self.admin_site.admin_view(self.for_issue_view),
                name="newsletter_issuenewsletter_for_issue",
            ),
            *super().get_urls(),
        ]

    def for_issue_view(self, request, issue_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        options, _ = IssueNewsletter.objects.get_or_create(issue=get_object_or_404(Issue, pk=issue_id))
        return redirect(reverse("admin:newsletter_issuenewsletter_change", args=[options.pk]))


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "kind", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["kind"]
    list_select_related = ["subscriber"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ErasedAddress)
class ErasedAddressAdmin(admin.ModelAdmin):
    list_display = ["digest", "erased_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
