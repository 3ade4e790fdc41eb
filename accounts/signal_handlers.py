"""What the accounts room does when someone signs in, out, fails, is locked out or changes a password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import pre_save

from . import sessions
from .models import AccountChange, SignIn
from .notices import record_change
from .records import record_sign_in


def on_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        sessions.start(request, user)


def on_logged_out(sender, request, user, **kwargs):
    if request is not None:
        sessions.forget(request)


def on_login_failed(sender, credentials, request=None, **kwargs):
    """Record a refused password (``accounts.views`` records refused second factors itself).

    axes' receiver runs first (its app is listed first): a refusal that reached the limit, or
    came while locked out, is recorded as a lockout.
    """
    if request is None or credentials.get("factor"):
        return
    outcome = SignIn.Outcome.LOCKED_OUT if getattr(request, "axes_locked_out", False) else SignIn.Outcome.FAILED
    record_sign_in(request, username=credentials.get("username", ""), outcome=outcome, factor=SignIn.Factor.PASSWORD)


def on_user_saved(sender, instance, raw=False, **kwargs):
    """A new password, by any path (the admin, a command): end the user's other sessions and tell them.

    Django already refuses sessions made with the old password at their next request; this
    removes them from the store and the Security page, and mails the user. A hash upgraded
    at sign-in (same password, stronger hasher) is no change.
    """
    new_password = getattr(instance, "_password", None)
    if raw or instance.pk is None or new_password is None:
        return
    old_hash = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old_hash is None or _same_password(new_password, old_hash):
        return
    keep = sessions.this_session_of(instance)
    request = sessions.current_request.get()
    by = (
        request.user
        if request is not None and getattr(request, "user", None) and request.user.is_authenticated
        else None
    )

    def after_commit():
        sessions.end(instance, keep=keep)
        with transaction.atomic():
            record_change(user=instance, action=AccountChange.Action.PASSWORD_CHANGED, by=by, request=request)

    transaction.on_commit(after_commit)


def _same_password(raw, encoded):
    from django.contrib.auth.hashers import check_password

    return check_password(raw, encoded)


def connect():
    user_logged_in.connect(on_logged_in, dispatch_uid="accounts.on_logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="accounts.on_logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="accounts.on_login_failed")
    pre_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="accounts.on_user_saved")
