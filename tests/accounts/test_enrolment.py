"""Roles that must have a second factor reach only enrolment until they have one (issue 19)."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from tests.accounts.signing import enrol_app, give_app, password
from tests.accounts.test_two_step_sign_in import START
from tests.factories import UserFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db

SECURITY = "/admin/security/"
REQUIRED = {"ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR": ["Publisher", "superuser"]}


def admin_pages():
    issue = issue_with_stories()
    story = issue.placements.first().story
    return [
        "/admin/",
        "/admin/models/",
        reverse("admin:digest_issue_changelist"),
        reverse("admin:digest_issue_change", args=[issue.pk]),
        reverse("admin:digest_issue_preview", args=[issue.pk]),
        reverse("admin:stories_story_change", args=[story.pk]),
        reverse("admin:stories_story_add"),
        reverse("admin:companies_company_changelist"),
        reverse("admin:digest_publicationrun_report"),
        reverse("admin:password_change"),
        reverse("admin:auth_user_changelist"),
    ]


@pytest.mark.parametrize("who", ["Publisher", "superuser"])
def test_a_role_that_must_have_a_factor_reaches_only_enrolment(settings, client, who):
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = REQUIRED["ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR"]
    user = UserFactory(username="root", superuser=True) if who == "superuser" else user_in_role(who)
    assert password(client, user.username)["Location"] == "/admin/"
    for url in admin_pages():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and response["Location"] == SECURITY, (method, url)
    page = client.get(SECURITY)
    assert page.status_code == 200 and b"Your role signs in with a second factor" in page.content
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code == 200 and begin.json()["rp"]["id"] == settings.OTP_WEBAUTHN_RP_ID
    with freeze_time(START):
        enrol_app(client)
        assert client.get("/admin/").status_code == 200  # enrolled: the newsroom opens
        assert client.get(reverse("admin:digest_issue_changelist")).status_code == 200


def test_a_superuser_owing_a_factor_cannot_act_on_other_accounts_until_enrolled(settings, client):
    """A reviewer's find: the enrolment pages' prefix let a password-only superuser reset other
    people's factors and end their sessions."""
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = REQUIRED["ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR"]
    eve = user_in_role("Editor", username="eve")
    give_app(eve)
    root = UserFactory(username="root", superuser=True)
    assert password(client, "root")["Location"] == "/admin/"
    for url in (
        reverse("accounts:user_security", args=[eve.pk]),
        reverse("accounts:end_all_sessions", args=[eve.pk]),
        reverse("accounts:reset_factors", args=[eve.pk]),
    ):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and response["Location"] == SECURITY, (method, url)
    assert TOTPDevice.objects.filter(user=eve).exists()
    assert client.get(reverse("accounts:user_security", args=[root.pk])).status_code in (200, 302)  # one's own
    assert client.get(SECURITY).status_code == 200


def test_a_session_from_before_the_rule_is_led_to_enrol(settings, client):
    publisher = user_in_role("Publisher", username="pat")
    client.force_login(publisher)  # signed in while the rule was off
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = REQUIRED["ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR"]
    assert client.get("/admin/").status_code == 200  # the rule applies from the next sign-in
    client.logout()
    password(client, "pat")
    assert client.get("/admin/")["Location"] == SECURITY


def test_an_editor_is_unaffected_when_the_rule_leaves_editors_out(settings, client):
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = REQUIRED["ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR"]
    user_in_role("Editor", username="eve")
    assert password(client, "eve")["Location"] == "/admin/"
    for url in admin_pages()[:-1]:  # the user list is a superuser's
        assert client.get(url).status_code == 200, url


def test_a_session_made_without_the_second_step_is_sent_back_to_sign_in(client):
    user = user_in_role("Editor", username="eve")
    password(client, "eve")
    with freeze_time(START):
        enrol_app(client)
    other = Client()
    other.force_login(user)  # code that logs in without the second factor
    answer = other.get(reverse("admin:digest_issue_changelist"))
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in other.session
