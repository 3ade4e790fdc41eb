"""Staff accounts in Chromium: passkeys with a virtual authenticator, sessions ended from elsewhere,
and the accounts pages checked with axe-core (issue 19).

The virtual authenticator is the DevTools protocol's WebAuthn domain, driven through
Playwright's CDP session: a platform authenticator (``internal``) that keeps resident keys and
verifies its user, as a laptop's fingerprint reader would. WebAuthn needs a secure context:
http://localhost is one, and pytest-django's live server runs there; the relying party is
set to it for the test.
"""

import pyotp
import pytest
from playwright.sync_api import expect

from accounts.models import SignIn
from tests.browser.sessions import PASSWORD, log_in
from tests.browser.test_reader import axe_violations
from tests.factories import user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def passkeys_here(settings, live_server):
    assert live_server.url.startswith("http://localhost:")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = ["Publisher", "superuser"]


def virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    return cdp, authenticator


def log_out(page):
    page.click("#logout-form button")
    expect(page.locator("#content-main, #content")).to_contain_text("Logged out", ignore_case=True)


def test_a_passkey_registers_and_signs_in_with_and_without_a_password(new_page, live_server, passkeys_here):
    user_in_role("Publisher", username="pat")
    page = new_page()
    cdp, authenticator = virtual_authenticator(page)
    log_in(page, live_server, "pat")
    expect(page).to_have_url(f"{live_server.url}/admin/security/")  # a publisher enrols first
    expect(page.locator(".errornote")).to_contain_text("Your role signs in with a second factor")

    page.click("#passkey-register-button")
    expect(page.locator("table").first).to_contain_text("Passkey", timeout=15_000)  # the ceremony: two round trips
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#content")).not_to_contain_text("second factor")

    # Without a password: the passkey says who.
    log_out(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.click("#passkey-verification-button")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#user-tools")).to_contain_text("PAT", ignore_case=True)

    # With the password, the passkey is the second factor.
    log_out(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "pat")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/sign-in/second-factor/")
    page.click("#passkey-verification-button")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    factors = list(
        SignIn.objects.filter(username="pat", outcome="success").order_by("pk").values_list("factor", flat=True)
    )
    assert factors == ["password", "passkey", "passkey"]


def test_sign_out_everywhere_else_and_a_password_change_end_another_browsers_session(new_page, live_server):
    user_in_role("Editor", username="eve")
    desk, laptop = new_page(), new_page()
    log_in(desk, live_server, "eve")
    log_in(laptop, live_server, "eve")
    desk.goto(f"{live_server.url}/admin/security/")
    expect(desk.locator("tr.staff-session")).to_have_count(2)
    desk.click("input[value='Sign out everywhere else']")
    expect(desk.locator("tr.staff-session")).to_have_count(1)
    laptop.goto(f"{live_server.url}/admin/")
    expect(laptop.locator("#id_username")).to_be_visible()  # signed out

    log_in(laptop, live_server, "eve")
    desk.goto(f"{live_server.url}/admin/password_change/")
    desk.fill("#id_old_password", PASSWORD)
    desk.fill("#id_new_password1", "a brand new passphrase")
    desk.fill("#id_new_password2", "a brand new passphrase")
    desk.click("input[type=submit]")
    expect(desk.locator("#content")).to_contain_text("Password change successful")
    laptop.goto(f"{live_server.url}/admin/")
    expect(laptop.locator("#id_username")).to_be_visible()
    desk.goto(f"{live_server.url}/admin/")
    expect(desk.locator("#user-tools")).to_contain_text("EVE", ignore_case=True)


def test_the_accounts_pages_pass_axe(new_page, live_server):
    user_in_role("Editor", username="eve")
    page = new_page(bypass_csp=True)  # axe is injected by the test
    problems = {}

    def check(name):
        problems.update({f"{name}: {violation}": 1 for violation in axe_violations(page)})

    page.goto(f"{live_server.url}/admin/login/")
    check("sign-in")
    log_in(page, live_server, "eve")
    page.goto(f"{live_server.url}/admin/security/")
    check("security")
    page.click("input[value='Set up an authenticator app']")
    check("app set-up")
    key = page.locator("#app-secret").inner_text().replace(" ", "")
    page.fill("#id_code", pyotp.TOTP(key).now())
    page.click("input[value='Confirm']")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    check("recovery codes")
    page.click("text=I have kept them")
    check("security with a factor")
    log_out(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "eve")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/sign-in/second-factor/")
    check("second step")
    assert problems == {}, "\n".join(problems)
