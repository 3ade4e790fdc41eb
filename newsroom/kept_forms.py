"""A save that arrives after the session expired keeps everything typed.

The admin would send the user to the login page and drop the POST. Instead the middleware
(``newsroom.middleware``) keeps the posted fields in a ``KeptForm`` row under a random key
and sends the user to log in with ``next`` pointing back at the form with ``?_restore=KEY``;
after logging in the form is shown again, filled with what was typed and not yet saved
(``newsroom.admin.typed``).

Only the browser that posted the form can bring it back: the row carries a random key that
is also set as a cookie on that browser, so a restore link sent to someone else shows
nothing. The rows are bounded: a day's lifetime and at most ``MAX_KEPT`` at once (the oldest
go first), each no larger than Django's limit on a request body.
"""

import datetime
import secrets

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import KeptForm

KEPT_FOR = datetime.timedelta(days=1)
MAX_KEPT = 200
COOKIE = "newsroom_kept"
_NOT_KEPT = {"csrfmiddlewaretoken"}


def keep(request, *, restore_parameter):
    """Keep what ``request`` posted and answer with the login page, which leads back to it."""
    browser_key = request.COOKIES.get(COOKIE) or secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        KeptForm.objects.filter(created_at__lt=now - KEPT_FOR).delete()
        beyond_bound = KeptForm.objects.order_by("-created_at").values_list("pk", flat=True)[MAX_KEPT - 1 :]
        KeptForm.objects.filter(pk__in=list(beyond_bound)).delete()
        kept = KeptForm.objects.create(
            key=secrets.token_urlsafe(24),
            browser_key=browser_key,
            path=request.path,
            data={name: values for name, values in request.POST.lists() if name not in _NOT_KEPT},
            created_at=now,
        )
    query = request.GET.copy()
    query[restore_parameter] = kept.key
    response = redirect_to_login(f"{request.path}?{query.urlencode()}", reverse("admin:login"))
    response.set_cookie(
        COOKIE,
        browser_key,
        max_age=int(KEPT_FOR.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def restore(request, key):
    """Return the fields kept under ``key`` for this page and browser, or None."""
    browser_key = request.COOKIES.get(COOKIE)
    if not browser_key:
        return None
    kept = KeptForm.objects.filter(
        key=key, browser_key=browser_key, path=request.path, created_at__gte=timezone.now() - KEPT_FOR
    ).first()
    return kept.data if kept else None
