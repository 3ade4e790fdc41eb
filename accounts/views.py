"""The accounts room's pages: the two sign-in steps and the Security page with its actions.

Each page is wrapped by ``admin.site.admin_view`` in ``urls.py`` where it needs a staff
login; the superuser-only ones check ``is_superuser`` on the live user here.
"""

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import factors, sessions, sign_in
from .forms import CodeForm, ConfirmAppForm, SignInForm
from .models import AccountChange, SignIn
from .notices import record_change
from .records import record_sign_in

Change = AccountChange.Action


# Signing in -----------------------------------------------------------------------------


class PasswordStepView(LoginView):
    """The admin's login form; an account with a second factor goes on to the second step."""

    authentication_form = SignInForm
    template_name = "accounts/sign_in.html"

    def form_valid(self, form):
        user = form.get_user()
        if factors.has_second_factor(user):
            sign_in.begin(self.request, user=user, next_url=self.get_success_url())
            return redirect("accounts:second_step")
        record_sign_in(
            self.request,
            username=user.get_username(),
            user=user,
            outcome=SignIn.Outcome.SUCCESS,
            factor=SignIn.Factor.PASSWORD,
        )
        return super().form_valid(form)


@never_cache
def password_step(request):
    """The newsroom's /admin/login/, as Django's admin builds it, with the second step after it."""
    site = admin.site
    if request.method == "GET" and site.has_permission(request):
        return redirect("admin:index")
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index")
    request.current_app = site.name
    return PasswordStepView.as_view(extra_context=context)(request)


@never_cache
def second_step(request):
    """Ask for the second factor of the sign-in that passed its password."""
    waiting, user = sign_in.pending(request), sign_in.pending_user(request)
    if waiting is None or user is None:
        sign_in.abandon(request)
        messages.info(request, "Your sign-in timed out: please start again.")
        return redirect("admin:login")
    username = waiting["username"]
    if sign_in.locked_out(request, username):
        tried = SignIn.Factor.TOTP if request.method == "POST" else None  # a page view is no attempt
        return sign_in.lockout_response(request, username, factor=tried)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, factor = factors.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            next_url = sign_in.finish(request, user=user, device=device, factor=factor, backend=waiting["backend"])
            if factor == SignIn.Factor.RECOVERY_CODE:
                left = factors.recovery_codes_left(user)
                messages.warning(
                    request, f"You signed in with a recovery code; {left} left. Make new ones on your Security page."
                )
            return redirect(next_url)
        if sign_in.refused(request, username=username, user=user, factor=factor):
            return sign_in.lockout_response(request, username)
        form.add_error("code", "That code was not accepted. Codes from an app work once, within about a minute.")
    context = {
        **admin.site.each_context(request),
        "title": "Second factor",
        "subtitle": None,
        "form": form,
        "has_passkey": factors.passkeys(user).exists(),
        "has_app": factors.apps(user).exists(),
    }
    return TemplateResponse(request, "accounts/second_step.html", context)


# The Security page ----------------------------------------------------------------------


def security(request, user_id=None):
    """A staff user's factors, sessions, recent sign-ins and account changes; a superuser sees anyone's."""
    subject = _subject(request, user_id)
    own = subject.pk == request.user.pk
    context = {
        **admin.site.each_context(request),
        "title": "Security" if own else f"Security of {subject.get_username()}",
        "subtitle": None,
        "subject": subject,
        "own": own,
        "apps": factors.apps(subject),
        "passkeys": factors.passkeys(subject),
        "recovery_codes_left": factors.recovery_codes_left(subject),
        "has_factor": factors.has_second_factor(subject),
        "factor_required": factors.factor_required(subject),
        "verified": request.user.is_verified(),
        "sessions": sessions.listed(subject),
        "this_session": request.session.get(sessions.SESSION_ID),
        "sign_ins": subject.sign_ins.all()[:10],
        "changes": subject.account_changes.select_related("actor")[:10],
        "max_apps": factors.MAX_APPS,
    }
    return TemplateResponse(request, "accounts/security.html", context)


def _subject(request, user_id):
    if user_id is None or int(user_id) == request.user.pk:
        return request.user
    if not request.user.is_superuser:
        raise PermissionDenied("Only a superuser sees another user's security page.")
    return get_object_or_404(get_user_model(), pk=user_id)


def _needs_verified(request):
    """Changing factors asks for a session that gave one, when the account has any."""
    if factors.has_second_factor(request.user) and not request.user.is_verified():
        raise PermissionDenied("Sign in with your second factor first.")


def factor_changed(request, *, action, detail=""):
    """After this user changed their own factors: end their other sessions, audit and tell them."""
    keep = request.session.get(sessions.SESSION_ID)
    transaction.on_commit(lambda: sessions.end(request.user, keep=keep))
    record_change(user=request.user, action=action, by=request.user, detail=detail, request=request)
    sessions.refresh_factor_state(request)


@require_POST
def end_other_sessions(request):
    ended = sessions.end(request.user, keep=request.session.get(sessions.SESSION_ID))
    record_change(
        user=request.user,
        action=Change.SESSIONS_ENDED,
        by=request.user,
        request=request,
        notify=False,
        detail=f"{ended} other session(s), by the user",
    )
    messages.success(request, f"Signed out everywhere else ({ended} session{'s' if ended != 1 else ''}).")
    return redirect("accounts:security")


@require_POST
def end_session(request, user_id, session_id):
    subject = _subject(request, user_id)
    if subject.pk == request.user.pk and session_id == request.session.get(sessions.SESSION_ID):
        messages.error(request, "That is this session: use “Log out” to end it.")
    elif sessions.end_one(subject, session_id=session_id):
        record_change(
            user=subject,
            action=Change.SESSIONS_ENDED,
            by=request.user,
            request=request,
            notify=subject.pk != request.user.pk,
            detail="one session",
        )
        messages.success(request, "That session is signed out.")
    return redirect(_security_url(subject, request))


@require_POST
def end_all_sessions(request, user_id):
    """A superuser signs a user out everywhere (but out of the superuser's own session)."""
    subject = _subject(request, user_id)
    if not request.user.is_superuser:
        raise PermissionDenied
    keep = request.session.get(sessions.SESSION_ID) if subject.pk == request.user.pk else None
    with transaction.atomic():
        ended = sessions.end(subject, keep=keep)
        record_change(
            user=subject, action=Change.SESSIONS_ENDED, by=request.user, request=request, detail=f"{ended} session(s)"
        )
    messages.success(
        request, f"{subject.get_username()} is signed out everywhere ({ended} session{'s' if ended != 1 else ''})."
    )
    return redirect(_security_url(subject, request))


@require_POST
def reset_factors(request, user_id):
    """A superuser removes every factor of a user (a lost phone): audited, mailed, sessions ended."""
    subject = _subject(request, user_id)
    if not request.user.is_superuser or subject.pk == request.user.pk:
        raise PermissionDenied("A superuser resets another user's factors; yours are yours to change.")
    with transaction.atomic():
        removed = factors.remove_all_factors(user=subject)
        sessions.end(subject)
        record_change(
            user=subject, action=Change.FACTORS_RESET, by=request.user, request=request, detail=f"{removed} factor(s)"
        )
    messages.success(request, f"{subject.get_username()}'s second factors are removed and their sessions ended.")
    return redirect(_security_url(subject, request))


def _security_url(subject, request):
    if subject.pk == request.user.pk:
        return reverse("accounts:security")
    return reverse("accounts:user_security", args=[subject.pk])


# Authenticator apps and recovery codes --------------------------------------------------


@require_POST
def app_setup(request):
    """Start setting up an app (POST), or confirm it with a code it shows (POST with a code)."""
    _needs_verified(request)
    if "code" not in request.POST:
        try:
            device = factors.start_app(user=request.user)
        except factors.TooManyFactors as error:
            messages.error(request, str(error))
            return redirect("accounts:security")
        return _app_setup_page(request, device, ConfirmAppForm(initial={"device": device.pk}))
    form = ConfirmAppForm(request.POST)
    device = form.is_valid() and factors.unconfirmed_app(user=request.user, device_id=form.cleaned_data["device"])
    if not device:
        messages.error(request, "That set-up expired: start again.")
        return redirect("accounts:security")
    with transaction.atomic():
        confirmed = factors.confirm_app(user=request.user, device_id=device.pk, code=form.cleaned_data["code"])
        if confirmed is None:
            form.add_error("code", "That code did not match: check the app's clock, and type the code it shows now.")
            return _app_setup_page(request, device, form)
        first_factor = not request.user.is_verified()
        otp_login(request, confirmed)
        factor_changed(request, action=Change.FACTOR_ADDED, detail="an authenticator app")
        codes = (
            factors.new_recovery_codes(user=request.user)
            if first_factor or not factors.recovery_codes_left(request.user)
            else None
        )
    messages.success(request, "Your authenticator app is set up: sign-ins now ask for its code.")
    if codes:
        return _codes_page(request, codes)
    return redirect("accounts:security")


def _app_setup_page(request, device, form):
    context = {
        **admin.site.each_context(request),
        "title": "Set up an authenticator app",
        "subtitle": None,
        "qr_code": factors.qr_code(device),
        "secret": factors.secret(device),
        "form": form,
    }
    return TemplateResponse(request, "accounts/app_setup.html", context)


@require_POST
def new_recovery_codes(request):
    _needs_verified(request)
    if not factors.has_second_factor(request.user):
        messages.error(request, "Recovery codes come with a second factor: set up an app or a passkey first.")
        return redirect("accounts:security")
    with transaction.atomic():
        codes = factors.new_recovery_codes(user=request.user)
        factor_changed(request, action=Change.RECOVERY_CODES_REGENERATED)
    return _codes_page(request, codes)


def _codes_page(request, codes):
    context = {**admin.site.each_context(request), "title": "Your recovery codes", "subtitle": None, "codes": codes}
    response = TemplateResponse(request, "accounts/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def remove_factor(request, kind, device_id):
    if kind not in ("app", "passkey"):
        raise Http404
    _needs_verified(request)
    with transaction.atomic():
        name = factors.remove_factor(user=request.user, kind=kind, device_id=device_id)
        if name is None:
            messages.error(request, "That factor is already gone.")
            return redirect("accounts:security")
        factor_changed(
            request, action=Change.FACTOR_REMOVED, detail=f"{'passkey' if kind == 'passkey' else 'app'} “{name}”"
        )
    messages.success(request, f"Removed “{name}”.")
    return redirect("accounts:security")
