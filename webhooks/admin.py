"""Webhook endpoints and their deliveries in the admin, for publishers.

A new endpoint's signing secret is shown once, on the page that answers its creation (or
its rotation), never stored in a message or shown again. Actions: send a test event,
rotate the secret, redeliver. Endpoints the deliveries disabled are named at the top of
the list, with the reason.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from outbound.client import OutboundRefused, check_url

from . import delivery
from .events import subscribable_types
from .models import Attempt, Delivery, Endpoint


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=subscribable_types, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Endpoint
        fields = ["url", "description", "events", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_url(url, require_https=settings.WEBHOOKS_REQUIRE_HTTPS)
        except OutboundRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return url


def _secret_page(model_admin, request, endpoint, secret, heading):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": heading,
        "endpoint": endpoint,
        "secret": secret,
        "opts": Endpoint._meta,
        "grace_hours": settings.WEBHOOK_SECRET_GRACE_HOURS,
    }
    response = TemplateResponse(request, "admin/webhooks/endpoint/secret.html", context)
    response["Cache-Control"] = "no-store"  # the secret is shown once: no copy in any cache
    return response


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "description", "event_list", "active", "disabled_reason"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_hint", "previous_secret_expires_at", "created_by", "created_at", "disabled_at",
                       "disabled_reason", "deliveries_link"]  # fmt: skip
    actions = ["send_test_event", "rotate_secret"]
    change_form_template = "admin/webhooks/endpoint/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/send-test-event/", view(require_POST(self.send_test_event_view)),
                 name="webhooks_endpoint_send_test_event"),
            path("<int:pk>/rotate-secret/", view(require_POST(self.rotate_secret_view)),
                 name="webhooks_endpoint_rotate_secret"),
            *super().get_urls(),
        ]  # fmt: skip

    def _endpoint_to_change(self, request, pk):
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def send_test_event_view(self, request, pk):
        endpoint = self._endpoint_to_change(request, pk)
        self.send_test_event(request, Endpoint.objects.filter(pk=endpoint.pk))
        return redirect("admin:webhooks_endpoint_change", endpoint.pk)

    def rotate_secret_view(self, request, pk):
        endpoint = self._endpoint_to_change(request, pk)
        secret = delivery.rotate_secret(endpoint)
        return _secret_page(self, request, endpoint, secret, "Secret rotated: copy the new signing secret now")

    @admin.display(description="Events")
    def event_list(self, endpoint):
        return ", ".join(endpoint.events)

    @admin.display(description="Signing secret")
    def secret_hint(self, endpoint):
        if not endpoint.secret:
            return "Made when the endpoint is saved, and shown once."
        return f"whsec_…{endpoint.secret[-4:]} (shown once when made; rotate it to get a new one)"

    @admin.display(description="Deliveries")
    def deliveries_link(self, endpoint):
        if not endpoint.pk:
            return "—"
        url = reverse("admin:webhooks_delivery_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">Deliveries and attempts</a>', url, endpoint.pk)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = delivery.new_secret()
            obj.created_by = request.user
        elif "active" in form.changed_data and obj.active:
            obj.disabled_at, obj.disabled_reason = None, ""  # turned on again by a person
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return _secret_page(self, request, obj, obj.secret, "Endpoint added: copy its signing secret now")

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for endpoint in Endpoint.objects.filter(active=False).exclude(disabled_reason=""):
                messages.warning(request, f"Webhook endpoint {endpoint} was disabled. {endpoint.disabled_reason}")
        return super().changelist_view(request, extra_context)

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            sent = delivery.send_test_event(endpoint, by=request.user)
            self.message_user(request, f"Test event {sent.message_id} queued for {endpoint}.", messages.SUCCESS)

    @admin.action(description="Rotate the signing secret (the old one stays valid for a grace period)",
                  permissions=["change"])  # fmt: skip
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Rotate one endpoint's secret at a time.", messages.ERROR)
            return None
        endpoint = queryset.get()
        secret = delivery.rotate_secret(endpoint)
        return _secret_page(self, request, endpoint, secret, "Secret rotated: copy the new signing secret now")


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ["started_at", "duration_ms", "status_code", "succeeded", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_type", "endpoint", "state", "attempts", "created_at", "next_attempt_at", "delivered_at",
                    "message_id"]  # fmt: skip
    list_filter = ["state", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["message_id"]
    readonly_fields = ["endpoint", "event_type", "message_id", "state", "attempts", "created_at", "next_attempt_at",
                       "delivered_at", "last_error", "body"]  # fmt: skip
    inlines = [AttemptInline]
    actions = ["redeliver"]
    change_form_template = "admin/webhooks/delivery/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.redeliver_view))
        return [path("<int:pk>/redeliver/", view, name="webhooks_delivery_redeliver"), *super().get_urls()]

    def redeliver_view(self, request, pk):
        item = get_object_or_404(Delivery, pk=pk)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        delivery.redeliver(item)
        messages.success(request, f"Delivery {item.message_id} queued again, with the same webhook-id.")
        return redirect("admin:webhooks_delivery_change", item.pk)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Redeliver (same webhook-id, fresh attempts)", permissions=["change"])
    def redeliver(self, request, queryset):
        for item in queryset:
            delivery.redeliver(item)
        self.message_user(request, f"{queryset.count()} deliveries queued again.", messages.SUCCESS)
