"""Staff who owe a second factor reach only what lets them give or enrol one; sessions are followed."""

import re

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from . import sessions

ADMIN = "/admin/"
SECURITY = "/admin/security/"  # the Security page, enrolment and the passkey ceremonies (accounts/urls.py)
OTHER_ACCOUNTS = re.compile(r"^/admin/security/users/(\d+)/")  # accounts.urls: user_security and what follows it


class StaffSessionMiddleware:
    """After django-otp's middleware: ``request.user.is_verified()`` says whether a factor was given.

    Only admin URLs are concerned: the reader site is public, and reading its sessions would
    cost its pages queries.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(ADMIN):
            return self.get_response(request)
        token = sessions.current_request.set(request)
        try:
            response = self.gate(request) or self.get_response(request)
            sessions.follow(request)
        finally:
            sessions.current_request.reset(token)
        return response

    def gate(self, request):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        sessions.adopt(request)
        state = request.session.get(sessions.FACTOR_STATE, sessions.OK)
        if state == sessions.ENROL and (
            not request.path.startswith((SECURITY, *_open_to_all_signed_in())) or _another_account(request)
        ):
            messages.warning(request, "Your role signs in with a second factor: set one up to continue.")
            return redirect("accounts:security")
        if state == sessions.VERIFY and not request.path.startswith(_open_to_all_signed_in()):
            # A session that skipped the second step (made by code, or from before the
            # factor existed): sign in again, properly.
            logout(request)
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return None


def _another_account(request):
    """Whether the request is about someone else's account (a superuser's pages for others):
    not before one's own second factor is set up."""
    match = OTHER_ACCOUNTS.match(request.path)
    return match is not None and int(match[1]) != request.user.pk


def _open_to_all_signed_in():
    return (reverse("admin:login"), reverse("admin:logout"), reverse("accounts:second_step"))
