"""The accounts room's addresses, all under /admin/ (config/urls.py puts them before the admin's own)."""

from django.contrib import admin
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import passkeys, views

app_name = "accounts"
staff = admin.site.admin_view  # a staff login, never cached, CSRF-checked

# django-otp-webauthn's script finds its endpoints by these names, in its own namespace
# (config/urls.py includes them at /admin/security/passkeys/).
passkey_urls = (
    [
        path("registration/begin/", staff(passkeys.BeginRegistration.as_view()), name="credential-registration-begin"),
        path(
            "registration/complete/",
            staff(passkeys.CompleteRegistration.as_view()),
            name="credential-registration-complete",
        ),
        path("authentication/begin/", passkeys.BeginAuthentication.as_view(), name="credential-authentication-begin"),
        path(
            "authentication/complete/",
            passkeys.CompleteAuthentication.as_view(),
            name="credential-authentication-complete",
        ),
        path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
    ],
    "otp_webauthn",
)

urlpatterns = [
    path("login/", views.password_step, name="password_step"),
    path("sign-in/second-factor/", views.second_step, name="second_step"),
    path("security/", staff(views.security), name="security"),
    path("security/sessions/end-others/", staff(views.end_other_sessions), name="end_other_sessions"),
    path("security/app/", staff(views.app_setup), name="app_setup"),
    path("security/recovery-codes/", staff(views.new_recovery_codes), name="new_recovery_codes"),
    path(
        "security/<str:kind>/<int:device_id>/remove/",
        staff(views.remove_factor),
        name="remove_factor",
    ),
    path("security/users/<int:user_id>/", staff(views.security), name="user_security"),
    path(
        "security/users/<int:user_id>/sessions/<int:session_id>/end/",
        staff(views.end_session),
        name="end_session",
    ),
    path("security/users/<int:user_id>/sessions/end/", staff(views.end_all_sessions), name="end_all_sessions"),
    path("security/users/<int:user_id>/factors/reset/", staff(views.reset_factors), name="reset_factors"),
]
