"""Hardening that applies to every page: login throttling, security headers."""

import pytest
from django.conf import settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def attempt(client, username, password="wrong password"):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_is_throttled_without_revealing_whether_the_account_exists(client):
    UserFactory(username="editor-anna", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "editor-anna").status_code == 200
        assert attempt(client, "nobody-here").status_code == 200
    existing, missing = attempt(client, "editor-anna"), attempt(client, "nobody-here")
    assert existing.status_code == missing.status_code == 429
    assert existing.content == missing.content
    assert b"Too many failed sign-in attempts" in existing.content
    # Locked out: even the right password is refused for now.
    locked = attempt(client, "editor-anna", "correct horse battery staple")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_correct_login_before_the_limit_works(client):
    UserFactory(username="editor-ben", is_staff=True)
    attempt(client, "editor-ben")
    response = attempt(client, "editor-ben", "correct horse battery staple")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_security_headers_on_public_and_admin_pages(client):
    for url in ("/", "/admin/login/"):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_the_second_step_is_throttled_with_the_same_answer(client):
    """Wrong codes after the right password count like wrong passwords; the lockout page is the one
    a stranger typing a name that does not exist gets."""
    from tests.accounts.signing import code, give_app, password

    give_app(UserFactory(username="editor-cleo", is_staff=True))
    assert password(client, "editor-cleo").status_code == 302
    answers = [code(client, "000000") for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [answer.status_code for answer in answers] == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        missing = attempt(client, "nobody-here")
    assert missing.status_code == 429 and missing.content == answers[-1].content
    assert attempt(client, "editor-cleo", "correct horse battery staple").status_code == 429
    assert "_auth_user_id" not in client.session
