"""The sign-in record: every attempt, kept ``ACCOUNTS_SIGN_IN_RECORD_DAYS`` days, shown to superusers."""

import datetime
import ipaddress

from django.conf import settings
from django.utils import timezone

from .models import SignIn, StaffSession

PRUNE_BATCH = 5000


def client_address(request):
    """The client's address: ``REMOTE_ADDR``, or the one the nearest of ``PROXY_COUNT`` trusted proxies saw.

    The one place that reads it: login throttling (axes, ``AXES_CLIENT_IP_CALLABLE``), the sign-in
    record, the API's and the newsletter's limits. Only the entries the trusted proxies appended to
    ``X-Forwarded-For`` are believed; anything before them is the client's own to write.
    """
    proxies = settings.PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            try:
                return str(ipaddress.ip_address(forwarded[-proxies]))
            except ValueError:
                pass  # not an address: a misconfigured proxy; fall back to the connection's
    return request.META.get("REMOTE_ADDR", "")


def client_ip(request):
    """``client_address`` for the records' address fields: None when it is not an address."""
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:300]


def record_sign_in(request, *, username, outcome, factor, user=None):
    return SignIn.objects.create(
        username=str(username or "")[:150],
        user=user,
        outcome=outcome,
        factor=factor,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )


def prune(*, now=None):
    """Delete sign-ins older than the retention and the rows of expired sessions, in bounded batches."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ACCOUNTS_SIGN_IN_RECORD_DAYS)
    deleted = 0
    while True:
        ids = list(SignIn.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH])
        if not ids:
            break
        deleted += SignIn.objects.filter(pk__in=ids).delete()[0]
    StaffSession.objects.filter(expires_at__lt=now).delete()
    return deleted
