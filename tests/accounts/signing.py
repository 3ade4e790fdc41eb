"""Signing in through the two steps, as the accounts tests' people do (test client)."""

import re
from base64 import b32encode

import pyotp
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"  # what tests.factories.user_in_role gives everyone
LOGIN = "/admin/login/?next=/admin/"
SECOND_STEP = "/admin/sign-in/second-factor/"


def give_app(user):
    """An authenticator app already set up for ``user``; answer the app (pyotp) that makes its codes."""
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return pyotp.TOTP(b32encode(device.bin_key).decode())


def password(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def code(client, value):
    return client.post(SECOND_STEP, {"code": value})


def sign_in(client, username, app):
    """Both steps, with the app's current code; the client ends on the newsroom's home page."""
    first = password(client, username)
    assert first.status_code == 302 and first["Location"] == SECOND_STEP, first
    second = code(client, app.now())
    assert second.status_code == 302 and second["Location"] == "/admin/", second
    return client


def enrol_app(client):
    """Set up an app from the Security page as a person does: read the key off the page, type a code.

    Answers the app (pyotp, from the key shown) and the recovery codes shown once.
    """
    page = client.post(reverse("accounts:app_setup")).content.decode()
    key = re.search(r'<code id="app-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    device = re.search(r'name="device" value="(\d+)"', page).group(1)
    app = pyotp.TOTP(key)
    shown = client.post(reverse("accounts:app_setup"), {"device": device, "code": app.now()})
    assert shown.status_code == 200, shown
    return app, recovery_codes(shown.content.decode())


def recovery_codes(html):
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", html)
