"""Odd and hostile input to the accounts pages: a clear answer, never a 5xx, and nothing changes."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SignIn, StaffSession
from tests.accounts.signing import code, give_app, password
from tests.factories import user_in_role

pytestmark = pytest.mark.django_db

HUGE = "7" * 2_000_000


def test_a_huge_or_odd_code_is_refused_plainly():
    give_app(user_in_role("Editor", username="eve"))
    client = Client()
    password(client, "eve")
    for value in (HUGE, "", "   ", "12 34 56 78", "<script>alert(1)</script>", "١٢٣٤٥٦"):
        answer = code(client, value)
        assert answer.status_code == 200, value
        assert b"<script>alert(1)</script>" not in answer.content
    assert "_auth_user_id" not in client.session


def test_the_passkey_endpoints_answer_garbage_with_a_clear_error():
    client = Client()
    complete = reverse("otp_webauthn:credential-authentication-complete")
    for body in ("{", "[]", '{"id": "x"}', HUGE, "[" * 50_000, "7" * 5000):
        answer = client.post(complete, body, content_type="application/json")
        assert 400 <= answer.status_code < 500, body[:20]
        assert "detail" in answer.json()
    assert SignIn.objects.filter(factor=SignIn.Factor.PASSKEY, outcome=SignIn.Outcome.FAILED).exists()
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code == 302 and begin["Location"].startswith("/admin/login/")  # only staff register


def test_a_second_step_ceremony_outliving_its_sign_in_is_refused_before_any_credential_is_read():
    """A reviewer's find: begun as a second factor (no PIN asked), completed after the password
    sign-in expired, it counted as a passkey-only sign-in, for any staff member's passkey."""
    client = Client()
    session = client.session
    session["otp_webauthn_authentication_state"] = {"challenge": "Y2hhbGxlbmdl", "require_user_verification": False}
    session.save()
    complete = reverse("otp_webauthn:credential-authentication-complete")
    answer = client.post(complete, '{"id": "x"}', content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_state"
    assert "otp_webauthn_authentication_state" not in client.session  # used up: it cannot be tried again
    assert "_auth_user_id" not in client.session


def test_one_cannot_touch_another_users_factors_or_sessions():
    eve, ann = user_in_role("Editor", username="eve"), user_in_role("Editor", username="ann")
    give_app(eve)
    waiting = TOTPDevice.objects.create(user=eve, name="Pending", confirmed=False)
    eves = Client()
    eves.force_login(eve)
    client = Client()
    client.force_login(ann)
    theirs = TOTPDevice.objects.get(user=eve, confirmed=True)
    assert client.post(reverse("accounts:remove_factor", args=["app", theirs.pk])).status_code == 302
    assert client.post(reverse("accounts:remove_factor", args=["evil", theirs.pk])).status_code == 404
    assert client.post(reverse("accounts:app_setup"), {"device": waiting.pk, "code": "123456"}).status_code == 302
    session = StaffSession.objects.get(user=eve)
    client.post(reverse("accounts:end_session", args=[ann.pk, session.pk]))  # someone else's session, as one's own
    assert client.post(reverse("accounts:end_session", args=[eve.pk, session.pk])).status_code == 403
    assert TOTPDevice.objects.filter(user=eve).count() == 2
    assert StaffSession.objects.filter(user=eve).exists()


@pytest.mark.parametrize("username", ["u" * 300, "u" * 100_000])
def test_a_username_longer_than_any_account_is_refused_on_the_sign_in_page(username):
    user_in_role("Editor", username="eve")
    answer = Client().post(reverse("admin:login"), {"username": username, "password": "whatever"})
    assert answer.status_code == 200
    assert b"errornote" in answer.content or b"errorlist" in answer.content
