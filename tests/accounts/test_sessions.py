"""Sessions one can see and end; password and factor changes end the others and mail the user (issue 19)."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import notices, records
from accounts.models import AccountChange, SignIn, StaffSession
from accounts.tasks import send_account_notices
from tests.accounts.signing import PASSWORD, give_app, password
from tests.factories import UserFactory, user_in_role

pytestmark = pytest.mark.django_db

SECURITY = "/admin/security/"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"  # noqa: E501


def signed_in(username, agent, address):
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    assert password(client, username)["Location"] == "/admin/"
    return client


def test_the_security_page_lists_sessions_and_signs_out_everywhere_else():
    user_in_role("Editor", username="eve")
    desk, phone = signed_in("eve", FIREFOX, "192.0.2.10"), signed_in("eve", SAFARI, "198.51.100.7")
    page = desk.get(SECURITY).content.decode()
    assert "Firefox on Windows" in page and "192.0.2.10" in page
    assert "Safari on iOS" in page and "198.51.100.7" in page
    assert page.count('class="staff-session"') == 2 and "This session" in page
    answer = desk.post(reverse("accounts:end_other_sessions"))
    assert answer.status_code == 302
    assert phone.get("/admin/").status_code == 302  # signed out
    assert desk.get("/admin/").status_code == 200  # still signed in
    assert list(StaffSession.objects.values_list("ip_address", flat=True)) == ["192.0.2.10"]


def test_one_session_can_be_signed_out_but_not_this_one():
    user = user_in_role("Editor", username="eve")
    desk, phone = signed_in("eve", FIREFOX, "192.0.2.10"), signed_in("eve", SAFARI, "198.51.100.7")
    this = desk.session["accounts.staff_session"]
    other = StaffSession.objects.exclude(pk=this).get()
    desk.post(reverse("accounts:end_session", args=[user.pk, this]))
    assert desk.get("/admin/").status_code == 200
    desk.post(reverse("accounts:end_session", args=[user.pk, other.pk]))
    assert phone.get("/admin/").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_mails_the_user(django_capture_on_commit_callbacks):
    user_in_role("Editor", username="eve")
    desk, phone = signed_in("eve", FIREFOX, "192.0.2.10"), signed_in("eve", SAFARI, "198.51.100.7")
    with django_capture_on_commit_callbacks(execute=True):
        answer = desk.post(
            reverse("admin:password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "a new long passphrase",
                "new_password2": "a new long passphrase",
            },
        )
    assert answer.status_code == 302
    assert desk.get("/admin/").status_code == 200
    assert phone.get("/admin/").status_code == 302
    assert StaffSession.objects.count() == 1
    assert [message.subject for message in mail.outbox] == ["Engineering @ Scale: password changed"]
    assert "192.0.2.10" in mail.outbox[0].body
    assert AccountChange.objects.get().action == AccountChange.Action.PASSWORD_CHANGED


def test_a_hash_upgraded_at_sign_in_is_no_password_change(settings, django_capture_on_commit_callbacks):
    user = user_in_role("Editor", username="eve")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher", *settings.PASSWORD_HASHERS]
    with django_capture_on_commit_callbacks(execute=True):
        signed_in("eve", FIREFOX, "192.0.2.10")
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha1$")  # upgraded
    assert not AccountChange.objects.exists() and mail.outbox == []


def test_a_superuser_ends_a_users_sessions_and_resets_their_factors(django_capture_on_commit_callbacks):
    eve = user_in_role("Editor", username="eve")
    give_app(eve)
    root = UserFactory(username="root", superuser=True)
    boss = Client()
    boss.force_login(root)
    phone = Client()
    phone.force_login(eve)
    page = boss.get(reverse("accounts:user_security", args=[eve.pk])).content.decode()
    assert "Security of eve" in page and "Authenticator app" in page
    with django_capture_on_commit_callbacks(execute=True):
        boss.post(reverse("accounts:reset_factors", args=[eve.pk]))
    assert not TOTPDevice.objects.filter(user=eve).exists()
    assert phone.get("/admin/").status_code == 302
    change = AccountChange.objects.get(user=eve)
    assert (change.action, change.actor) == (AccountChange.Action.FACTORS_RESET, root)
    assert "root removed every second factor" in mail.outbox[0].body
    assert boss.get("/admin/").status_code == 200


def test_only_a_superuser_sees_or_ends_another_users_sessions():
    eve, ann = user_in_role("Editor", username="eve"), user_in_role("Publisher", username="ann")
    client = Client()
    client.force_login(ann)
    for url in (
        reverse("accounts:user_security", args=[eve.pk]),
        reverse("accounts:end_all_sessions", args=[eve.pk]),
        reverse("accounts:reset_factors", args=[eve.pk]),
    ):
        assert client.post(url).status_code == 403, url
    assert client.get(reverse("accounts:user_security", args=[eve.pk])).status_code == 403
    anonymous = Client().get(SECURITY)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    assert client.get(reverse("admin:accounts_signin_changelist")).status_code == 403


def test_the_sign_in_record_is_shown_to_superusers():
    user_in_role("Editor", username="eve")
    password(Client(REMOTE_ADDR="203.0.113.9"), "eve", "wrong password")
    root = UserFactory(username="root", superuser=True)
    boss = Client()
    boss.force_login(root)
    page = boss.get(reverse("admin:accounts_signin_changelist")).content.decode()
    assert "203.0.113.9" in page and "Failed" in page


def test_a_notice_the_mail_server_did_not_take_is_sent_by_a_later_beat(settings, django_capture_on_commit_callbacks):
    eve = user_in_role("Editor", username="eve")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    with django_capture_on_commit_callbacks(execute=True):
        notices.record_change(user=eve, action=AccountChange.Action.PASSWORD_CHANGED)
    change = AccountChange.objects.get()
    assert change.notice_sent_at is None and change.notice_attempts == 0  # an outage is charged to no notice
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send_account_notices()
    change.refresh_from_db()
    assert change.notice_sent_at is not None and len(mail.outbox) == 1
    send_account_notices()
    assert len(mail.outbox) == 1  # sent once


def test_the_record_is_kept_for_the_configured_time(settings):
    settings.ACCOUNTS_SIGN_IN_RECORD_DAYS = 30
    old = SignIn.objects.create(username="a", outcome="failed", factor="password")
    SignIn.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=31))
    recent = SignIn.objects.create(username="b", outcome="failed", factor="password")
    assert records.prune() == 1
    assert list(SignIn.objects.all()) == [recent]


def test_the_security_page_costs_the_same_queries_with_more_sessions_and_sign_ins(django_assert_max_num_queries):
    user_in_role("Editor", username="eve")
    desk = signed_in("eve", FIREFOX, "192.0.2.1")
    counts = []
    for more in (1, 8):
        for n in range(more):
            signed_in("eve", SAFARI, f"198.51.100.{n + 1}")  # another session, another recorded sign-in
        with django_assert_max_num_queries(16) as captured:
            page = desk.get(SECURITY)
        assert page.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert page.content.decode().count('class="staff-session"') == 10
