"""The sign-in record in the admin, for superusers only; the libraries' own device admins are removed.

django-otp's admins would show a superuser anyone's authenticator secret and let them add
factors to other accounts; factors are managed on each user's Security page instead.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnAttestation, WebAuthnCredential

from .models import SignIn

for model in (TOTPDevice, StaticDevice, WebAuthnCredential, WebAuthnAttestation):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "account", "outcome", "factor", "ip_address", "user_agent"]
    list_filter = ["outcome", "factor", "at"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["user"]
    show_full_result_count = False  # the record grows: no COUNT(*) over all of it per page

    @admin.display(description="account")
    def account(self, attempt):
        if attempt.user is None:
            return "—"
        url = reverse("accounts:user_security", args=[attempt.user_id])
        return format_html('<a href="{}">{}</a>', url, attempt.user.get_username())

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
