"""Passkeys (django-otp-webauthn's ceremonies), fitted to the newsroom's sign-in.

- Registering needs a signed-in staff user, a session that gave its factor when the account
  has one (the library checks that), and fewer than ``factors.MAX_PASSKEYS`` passkeys; a new
  passkey ends the user's other sessions and is mailed about, like any factor change.
- Authenticating answers the second step of a pending sign-in (the passkey must be that
  user's), or signs in without a password from the login page (the passkey says who, and
  user verification is required). Either way axes' lockout applies first, and a refusal is
  counted and recorded.
"""

from django.contrib.auth import get_user_model
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as library

from . import factors, sessions, sign_in
from .models import AccountChange, SignIn
from .notices import record_change
from .records import record_sign_in

PASSWORDLESS_BACKEND = "django_otp_webauthn.backends.WebAuthnBackend"


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    code = "locked_out"
    default_detail = (
        "Too many failed sign-in attempts. For your security, signing in with these details is paused for 15 minutes."
    )


class TooManyPasskeys(exceptions.OTPWebAuthnApiError):
    status_code = 400
    code = "too_many_passkeys"
    default_detail = f"You already have {factors.MAX_PASSKEYS} passkeys; remove one first."


class NotStaff(exceptions.OTPWebAuthnApiError):
    status_code = 403
    code = "not_staff"
    default_detail = "Passkeys are for the newsroom's staff."


MAX_CEREMONY_BYTES = 64 * 1024  # an attestation or assertion is a few kilobytes


class BoundedJSON:
    """Refuse a ceremony body that is too large or not JSON with a 400, before the library reads it.

    The library catches only ``JSONDecodeError``: a number of two million digits (a
    ``ValueError``) or nesting deep enough for a ``RecursionError`` would be a 500.
    """

    def _parse_request_data(self, request):
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_CEREMONY_BYTES:
            raise exceptions.MalformedRequest()
        try:
            return super()._parse_request_data(request)
        except (ValueError, RecursionError) as error:
            raise exceptions.MalformedRequest() from error


class BeginRegistration(BoundedJSON, library.BeginCredentialRegistrationView):
    def check_can_register(self):
        if not self.request.user.is_staff:
            raise NotStaff()
        if factors.passkeys(self.request.user).count() >= factors.MAX_PASSKEYS:
            raise TooManyPasskeys()


class CompleteRegistration(BoundedJSON, library.CompleteCredentialRegistrationView):
    def check_can_register(self):
        BeginRegistration.check_can_register(self)

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            request = self.request
            keep = request.session.get(sessions.SESSION_ID)
            sessions.end(request.user, keep=keep)
            record_change(
                user=request.user,
                action=AccountChange.Action.FACTOR_ADDED,
                by=request.user,
                detail="a passkey",
                request=request,
            )
            sessions.refresh_factor_state(request)
        return response


class BeginAuthentication(BoundedJSON, library.BeginCredentialAuthenticationView):
    def get_user(self):
        return sign_in.pending_user(self.request)


class CompleteAuthentication(BoundedJSON, library.CompleteCredentialAuthenticationView):
    def get_user(self):
        return sign_in.pending_user(self.request)

    def get_state(self):
        state = super().get_state()
        # A ceremony begun as the second step of a password sign-in does not ask the authenticator
        # for a PIN or a fingerprint; if that sign-in has expired or been abandoned meanwhile, the
        # answer must not count as a passkey-only sign-in (which does ask), nor for anyone's account.
        if not state.get("require_user_verification", True) and sign_in.pending(self.request) is None:
            raise exceptions.InvalidState()
        return state

    def check_device_usable(self, device):
        super().check_device_usable(device)
        waiting = sign_in.pending(self.request)
        if waiting is not None and device.user_id != waiting["user"]:
            raise exceptions.CredentialNotFound()
        if sign_in.locked_out(self.request, device.user.get_username()):
            record_sign_in(
                self.request,
                username=device.user.get_username(),
                user=device.user,
                outcome=SignIn.Outcome.LOCKED_OUT,
                factor=SignIn.Factor.PASSKEY,
            )
            raise LockedOut()
        if not device.user.is_staff:
            raise NotStaff()

    def complete_auth(self, device):
        waiting = sign_in.pending(self.request)
        backend = waiting["backend"] if waiting else PASSWORDLESS_BACKEND
        self._next = sign_in.finish(
            self.request,
            user=device.user,
            device=device,
            factor=SignIn.Factor.PASSKEY,
            backend=backend,
            next_url=self.request.GET.get("next"),
        )

    def get_success_url(self):
        return self._next

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.OTPWebAuthnApiError) and not isinstance(exc, LockedOut):
            waiting = sign_in.pending(self.request)
            if waiting is not None:
                user = get_user_model().objects.filter(pk=waiting["user"]).first()
                if sign_in.refused(self.request, username=waiting["username"], user=user, factor=SignIn.Factor.PASSKEY):
                    exc = LockedOut()
            else:
                record_sign_in(self.request, username="", outcome=SignIn.Outcome.FAILED, factor=SignIn.Factor.PASSKEY)
        return super().handle_exception(exc)
