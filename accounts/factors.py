"""Second factors: who must have one, who has one, enrolling them and checking a code.

The factors are django-otp devices: ``TOTPDevice`` (an authenticator app), django-otp-webauthn's
``WebAuthnCredential`` (a passkey) and one ``StaticDevice`` holding the recovery codes. Recovery
codes are a way back in, not a factor: only an app or a passkey makes a second factor.
"""

import secrets

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from .models import SignIn

SUPERUSER_ROLE = "superuser"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_CODE_LENGTH = 10
MAX_APPS = 5  # authenticator apps a user may keep; passkeys: MAX_PASSKEYS
MAX_PASSKEYS = 10
MAX_CODE_LENGTH = 32  # longer input is not a code; cheapest check first


def factor_required(user):
    """Whether ``user``'s role must sign in with a second factor (``ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR``)."""
    roles = settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR
    if not roles or not user.is_active:
        return False
    if user.is_superuser and SUPERUSER_ROLE in roles:
        return True
    groups = [role for role in roles if role != SUPERUSER_ROLE]
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def has_second_factor(user):
    """Whether ``user`` has a confirmed authenticator app or passkey (one query)."""
    confirmed = {"user": OuterRef("pk"), "confirmed": True}
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(Exists(TOTPDevice.objects.filter(**confirmed)) | Exists(WebAuthnCredential.objects.filter(**confirmed)))
        .exists()
    )


def apps(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def passkeys(user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# Authenticator apps ---------------------------------------------------------------------


class TooManyFactors(Exception):
    pass


def start_app(*, user):
    """Make a new, unconfirmed authenticator-app device; any earlier unconfirmed one goes.

    Its secret is shown once, on the page this answers; reloading starts again with a new one.
    """
    if apps(user).count() >= MAX_APPS:
        raise TooManyFactors(f"You already have {MAX_APPS} authenticator apps; remove one first.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def unconfirmed_app(*, user, device_id):
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


def confirm_app(*, user, device_id, code):
    """Confirm the app with a code it shows; answer the device, or None when the code is wrong."""
    code = normalise(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False, pk=device_id).first()
        if device is None or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return device


def qr_code(device):
    """The app's set-up address as a QR code, an SVG data URI (the CSP allows data: images)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def secret(device):
    """The app's secret in base32, in groups of four, for typing it in instead of scanning."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# Recovery codes -------------------------------------------------------------------------


def new_recovery_codes(*, user):
    """Replace the user's recovery codes with ``ACCOUNTS_RECOVERY_CODES`` new ones; answer them.

    They are shown once, on the page this answers; afterwards only how many are left is.
    """
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(settings.ACCOUNTS_RECOVERY_CODES)
    ]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def use_recovery_code(user, code):
    """Spend one recovery code; answer its device, or None. One DELETE: a code works once, even raced."""
    deleted, _ = StaticToken.objects.filter(device__user=user, device__confirmed=True, token=code).delete()
    if not deleted:
        return None
    return StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).first()


# Checking a code at sign-in -------------------------------------------------------------


def normalise(code):
    return "".join(str(code).split()).replace("-", "").lower()[: MAX_CODE_LENGTH + 1]


def verify_code(user, code):
    """Check a code typed at the second step: six digits from an app, or a recovery code.

    Answers ``(device, factor)``; ``device`` is None when the code is refused. An app's code
    works once (django-otp keeps the last time step used, under a row lock here) and only in
    its time window (one step either side, ``OTP_TOTP_TOLERANCE``).
    """
    code = normalise(code)
    if not code or len(code) > MAX_CODE_LENGTH:
        return None, SignIn.Factor.TOTP
    if code.isdigit() and len(code) == 6:
        with transaction.atomic():
            for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(code):
                    return device, SignIn.Factor.TOTP
        return None, SignIn.Factor.TOTP
    if not has_second_factor(user):  # recovery codes outlive no factor
        return None, SignIn.Factor.RECOVERY_CODE
    return use_recovery_code(user, code), SignIn.Factor.RECOVERY_CODE


# Removing -------------------------------------------------------------------------------


def remove_factor(*, user, kind, device_id):
    """Remove one app or passkey of ``user``; the recovery codes go with the last factor. Answer its name."""
    model = {"app": TOTPDevice, "passkey": WebAuthnCredential}[kind]
    with transaction.atomic():
        device = model.objects.filter(user=user, pk=device_id).first()
        if device is None:
            return None
        name = device.name
        device.delete()
        if not has_second_factor(user):
            StaticDevice.objects.filter(user=user).delete()
    return name


def remove_all_factors(*, user):
    """Remove every app, passkey and recovery code of ``user`` (a superuser's reset)."""
    with transaction.atomic():
        counts = [model.objects.filter(user=user).delete()[0] for model in (TOTPDevice, WebAuthnCredential)]
        StaticDevice.objects.filter(user=user).delete()
    return sum(counts)
