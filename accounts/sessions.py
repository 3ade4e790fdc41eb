"""Staff sessions one can see and end.

Each sign-in writes a ``StaffSession`` row and puts its id in the session's own data; the
middleware keeps the row's session key and last-seen time current (at most once a minute, so
an admin page costs no extra query). Ending a session deletes it from the session store: its
next request is anonymous.

The session also remembers, from its sign-in, what its user still owes (``FACTOR_STATE``):
nothing, a second factor to enrol (their role requires one) or a second factor to give (a
session made without the second step). Roles and factors are read at sign-in, as the issue
asks ("at their next sign-in"); a factor change or a reset ends the user's other sessions.
"""

import contextvars
import time
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from . import factors
from .models import StaffSession
from .records import client_ip, user_agent

SESSION_ID = "accounts.staff_session"
SESSION_KEY = "accounts.session_key"  # the key the row knows; differs after a rotation
LAST_SEEN = "accounts.last_seen"
FACTOR_STATE = "accounts.factor_state"
SEEN_EVERY = 60  # seconds between last-seen writes

OK, ENROL, VERIFY = "ok", "enrol", "verify"

# The request being served, so a password change saved anywhere (a model signal) knows
# which session made it and keeps that one.
current_request = contextvars.ContextVar("accounts_current_request", default=None)


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def start(request, user):
    """Receiver of ``user_logged_in``: list the new session and note what its user still owes."""
    session = request.session
    if session.session_key is None:
        session.save()
    row = StaffSession.objects.create(
        user=user,
        session_key=session.session_key,
        user_agent=user_agent(request),
        ip_address=client_ip(request),
        expires_at=session.get_expiry_date(),
    )
    session[SESSION_ID] = row.pk
    session[SESSION_KEY] = session.session_key
    session[LAST_SEEN] = time.time()
    session[FACTOR_STATE] = factor_state(user)


def factor_state(user):
    if factors.has_second_factor(user):
        return VERIFY
    return ENROL if factors.factor_required(user) else OK


def refresh_factor_state(request):
    """After this session's user changed their own factors: what they owe now.

    A session that gave a factor stays trusted; one whose user removed their last factor
    owes an enrolment again when their role requires one.
    """
    user = request.user
    if factors.has_second_factor(user):
        request.session[FACTOR_STATE] = OK
    else:
        request.session[FACTOR_STATE] = ENROL if factors.factor_required(user) else OK


def forget(request):
    """Receiver of ``user_logged_out``: the session is gone, so is its row."""
    row_id = request.session.get(SESSION_ID) if hasattr(request, "session") else None
    if row_id:
        StaffSession.objects.filter(pk=row_id).delete()


def follow(request):
    """After an admin request: follow a rotated session key, note the last visit once a minute."""
    session = getattr(request, "session", None)
    if session is None or not session.get(SESSION_ID) or session.session_key is None:
        return
    row_id, now = session[SESSION_ID], time.time()
    changes = {}
    if session.get(SESSION_KEY) != session.session_key:
        changes["session_key"] = session[SESSION_KEY] = session.session_key
    if now - session.get(LAST_SEEN, 0) >= SEEN_EVERY:
        session[LAST_SEEN] = now
        changes.update(last_seen=timezone.now(), ip_address=client_ip(request), expires_at=session.get_expiry_date())
    if changes:
        StaffSession.objects.filter(pk=row_id).update(**changes)


def adopt(request):
    """A staff session from before this room existed: list it from its first admin request on."""
    if request.user.is_authenticated and SESSION_ID not in request.session:
        start(request, request.user)


def listed(user):
    """The user's sessions that have not expired, most recently seen first."""
    return StaffSession.objects.filter(user=user, expires_at__gt=timezone.now())


def end(user, *, keep=None):
    """End ``user``'s sessions but the one with id ``keep``; answer how many ended."""
    rows = list(StaffSession.objects.filter(user=user).exclude(pk=keep))
    store = _store()
    for row in rows:
        store(session_key=row.session_key).delete()
    StaffSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def end_one(user, *, session_id):
    row = StaffSession.objects.filter(user=user, pk=session_id).first()
    if row is None:
        return False
    _store()(session_key=row.session_key).delete()
    row.delete()
    return True


def this_session_of(user):
    """The id of the session being served, when it is ``user``'s (to keep it when ending the others)."""
    request = current_request.get()
    if request is None or not hasattr(request, "session"):
        return None
    if getattr(request, "user", None) is None or request.user.pk != user.pk:
        return None
    return request.session.get(SESSION_ID)


BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
SYSTEMS = [
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


def describe_browser(agent):
    """ "Firefox on Windows" from a User-Agent header, or what is known of it."""
    browser = next((name for token, name in BROWSERS if token in agent), "Unknown browser")
    system = next((name for token, name in SYSTEMS if token in agent), "")
    return f"{browser} on {system}" if system else browser
