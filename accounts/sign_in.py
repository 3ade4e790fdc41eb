"""Signing in to the newsroom in two steps: the password, then a second factor if the account has one.

Between the steps the session holds only who passed the password, for
``ACCOUNTS_SECOND_STEP_SECONDS``; the user is logged in (and the session key rotated) once
the second factor is given. django-axes counts failures of either step against the same
username and address, and its lockout answers both steps, and a passkey sign-in, alike.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.signals import user_login_failed
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from .models import SignIn
from .records import record_sign_in

PENDING = "accounts.pending_sign_in"


def begin(request, *, user, next_url):
    """The password was right and the account has a second factor: wait for it."""
    request.session[PENDING] = {
        "user": user.pk,
        "username": user.get_username(),
        "backend": user.backend,
        "until": time.time() + settings.ACCOUNTS_SECOND_STEP_SECONDS,
        "next": next_url,
    }


def pending(request):
    """The sign-in waiting for its second factor, or None (none, or it timed out)."""
    waiting = request.session.get(PENDING)
    if not waiting or waiting["until"] < time.time():
        return None
    return waiting


def pending_user(request):
    waiting = pending(request)
    if waiting is None:
        return None
    return get_user_model().objects.filter(pk=waiting["user"], is_active=True).first()


def abandon(request):
    request.session.pop(PENDING, None)


def credentials(username):
    return {"username": username}


def locked_out(request, username):
    """Whether axes refuses ``username`` from this address now."""
    return not AxesProxyHandler.is_allowed(request, credentials(username))


def lockout_response(request, username, *, factor=None):
    """The lockout page axes shows at the password step: the same words whatever the step.

    ``factor``: record this attempt, refused for the lockout (not when it was already recorded).
    """
    if factor:
        record_sign_in(request, username=username, outcome=SignIn.Outcome.LOCKED_OUT, factor=factor)
    abandon(request)
    return get_lockout_response(request, None, credentials(username))


def refused(request, *, username, user, factor):
    """A wrong second factor: recorded, and counted by axes like a wrong password."""
    user_login_failed.send(sender=__name__, credentials={**credentials(username), "factor": factor}, request=request)
    locked = getattr(request, "axes_locked_out", False)
    outcome = SignIn.Outcome.LOCKED_OUT if locked else SignIn.Outcome.FAILED
    record_sign_in(request, username=username, user=user, outcome=outcome, factor=factor)
    if locked:
        abandon(request)
    return locked


def finish(request, *, user, device, factor, backend, next_url=None):
    """Log ``user`` in with the factor they gave; answer where to go next (the pending sign-in's
    ``next``, else ``next_url``, if it is on this site)."""
    waiting = pending(request) or {}
    abandon(request)
    login(request, user, backend=backend)
    otp_login(request, device)
    record_sign_in(request, username=user.get_username(), user=user, outcome=SignIn.Outcome.SUCCESS, factor=factor)
    return safe_next(request, waiting.get("next") or next_url)


def safe_next(request, url):
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse("admin:index")
