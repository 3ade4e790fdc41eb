"""Signing in with a password and then an authenticator app or a recovery code (issue 19).

Codes are computed in the test with pyotp from the key the set-up page shows, not by the
library under test; time is frozen so that "stale" and "the next code" are exact.
"""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from accounts.models import SignIn
from tests.accounts.signing import SECOND_STEP, code, enrol_app, give_app, password, recovery_codes, sign_in
from tests.factories import UserFactory, user_in_role

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 30, 12, 0, 5, tzinfo=datetime.UTC)  # early in a 30 s step


def test_the_production_default_requires_publishers_and_superusers():
    from config import settings as production

    assert production.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR == ["Publisher", "superuser"]


def test_enrol_an_app_then_sign_in_with_its_code(client, mailoutbox, django_capture_on_commit_callbacks):
    user_in_role("Publisher", username="pat")
    assert password(client, "pat")["Location"] == "/admin/"  # no factor yet: the password is enough
    with freeze_time(START) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            app, codes = enrol_app(client)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert [mail.subject for mail in mailoutbox] == ["Engineering @ Scale: second factor added"]
        assert mailoutbox[0].to == ["pat@example.com"]
        clock.tick(60)
        browser = Client()
        first = password(browser, "pat")
        assert first.status_code == 302 and first["Location"] == SECOND_STEP
        assert "_auth_user_id" not in browser.session  # not signed in between the steps
        assert browser.get("/admin/").status_code == 302
        second = code(browser, app.now())
        assert second.status_code == 302 and second["Location"] == "/admin/"
        assert browser.get("/admin/").status_code == 200
    record = SignIn.objects.filter(username="pat").order_by("-pk").first()
    assert (record.outcome, record.factor) == (SignIn.Outcome.SUCCESS, SignIn.Factor.TOTP)


def test_a_reused_or_stale_code_is_refused(client):
    user = user_in_role("Editor", username="eve")
    app = give_app(user)
    with freeze_time(START) as clock:
        sign_in(Client(), "eve", app)
        used = app.now()
        password(client, "eve")
        refused = code(client, used)
        assert refused.status_code == 200 and b"That code was not accepted" in refused.content
        clock.tick(2)  # django-otp slows down guessing after a wrong code
        stale = app.at(START - datetime.timedelta(minutes=3))
        assert code(client, stale).status_code == 200
        assert "_auth_user_id" not in client.session
        clock.tick(30)  # the app shows its next code
        assert code(client, app.now())["Location"] == "/admin/"
    failures = SignIn.objects.filter(username="eve", outcome=SignIn.Outcome.FAILED)
    assert [attempt.factor for attempt in failures] == [SignIn.Factor.TOTP, SignIn.Factor.TOTP]


def test_a_recovery_code_signs_in_once(client, mailoutbox):
    user_in_role("Editor", username="rae")
    password(client, "rae")
    with freeze_time(START):
        _, codes = enrol_app(client)
    for expected in ("/admin/", None):  # the first time, then again
        browser = Client()
        assert password(browser, "rae")["Location"] == SECOND_STEP
        answer = code(browser, codes[0].upper().replace("-", " "))  # typed loosely
        if expected:
            assert answer["Location"] == expected
            assert "9 left" in browser.get("/admin/").content.decode()
        else:
            assert answer.status_code == 200 and "_auth_user_id" not in browser.session
    record = SignIn.objects.filter(username="rae", outcome=SignIn.Outcome.SUCCESS).order_by("-pk").first()
    assert record.factor == SignIn.Factor.RECOVERY_CODE


def test_new_recovery_codes_void_the_old_ones(client):
    user_in_role("Editor", username="ray")
    password(client, "ray")
    with freeze_time(START):
        _, old = enrol_app(client)
    new = recovery_codes(client.post(reverse("accounts:new_recovery_codes")).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    browser = Client()
    password(browser, "ray")
    assert code(browser, old[1]).status_code == 200
    assert code(browser, new[1])["Location"] == "/admin/"


def test_the_second_step_times_out(client):
    user = user_in_role("Editor", username="tim")
    app = give_app(user)
    with freeze_time(START) as clock:
        password(client, "tim")
        clock.tick(settings.ACCOUNTS_SECOND_STEP_SECONDS + 1)
        answer = code(client, app.now())
    assert answer.status_code == 302 and answer["Location"] == "/admin/login/"
    assert "_auth_user_id" not in client.session


def test_the_lockout_counts_both_steps_and_answers_alike(client):
    """Two wrong passwords and three wrong codes lock the account, with the page a stranger gets."""
    give_app(user_in_role("Editor", username="lou"))
    stranger = Client()
    for _ in range(2):
        assert password(client, "lou", "wrong password").status_code == 200
    password(client, "lou")
    with freeze_time(START) as clock:
        answers = []
        for _ in range(settings.AXES_FAILURE_LIMIT - 2):
            clock.tick(2)
            answers.append(code(client, "000000"))
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        for _ in range(settings.AXES_FAILURE_LIMIT):
            missing = password(stranger, "nobody-here", "wrong password")
        assert missing.status_code == answers[-1].status_code == 429
        assert missing.content == answers[-1].content
        # Locked: the right password and a right code are refused alike.
        assert password(client, "lou").status_code == 429
        assert "_auth_user_id" not in client.session
    outcomes = list(SignIn.objects.filter(username="lou").order_by("pk").values_list("outcome", "factor"))
    assert outcomes == [
        ("failed", "password"),
        ("failed", "password"),
        ("failed", "totp"),
        ("failed", "totp"),
        ("locked_out", "totp"),
        ("locked_out", "password"),
    ]


def test_a_locked_out_account_is_refused_at_the_second_step_too(client):
    user = user_in_role("Editor", username="liz")
    app = give_app(user)
    assert password(client, "liz")["Location"] == SECOND_STEP
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        password(attacker, "liz", "wrong password")
    with freeze_time(START):
        assert code(client, app.now()).status_code == 429  # same address: the lockout holds after the password too
    assert "_auth_user_id" not in client.session


def test_a_superuser_with_a_factor_is_asked_for_it(client):
    user = UserFactory(username="root", superuser=True)
    app = give_app(user)
    with freeze_time(START):
        sign_in(client, "root", app)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200


def test_behind_the_proxies_the_lockout_counts_each_client_not_the_proxy(settings):
    """A reviewer's find: behind Varnish every sign-in came from 127.0.0.1, so anyone's five wrong
    passwords locked the account for everybody (the lockout read ``REMOTE_ADDR``)."""
    settings.PROXY_COUNT = 1
    user_in_role("Editor", username="lou")
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    lou = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        password(attacker, "lou", "wrong password")
    assert password(attacker, "lou").status_code == 429  # the guesser is locked out
    assert password(lou, "lou").status_code == 302  # lou, from her own address, is not
    assert SignIn.objects.filter(outcome="locked_out").values_list("ip_address", flat=True).first() == "203.0.113.9"
    # A client's own X-Forwarded-For is not believed: the proxy's entry (the last one) is the address.
    spoofer = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    assert password(spoofer, "lou").status_code == 429
