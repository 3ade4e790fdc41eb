"""Who else has an object's change page open: heartbeats kept in the cache.

Each open change page beats every ``BEAT_SECONDS`` (``static/newsroom/presence.js``). The
cache holds, per object, ``{user id: (name, first seen, last seen)}``; an entry whose last
beat is older than ``GONE_AFTER`` is someone who left. Nothing here must survive a restart,
and a lost update (two beats racing) is repaired by the next beat, so the cache is enough.
"""

import logging
from datetime import UTC, datetime
from functools import wraps

from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BEAT_SECONDS = 30
GONE_AFTER = 90
# A page cannot make the entry grow without bound: only the most recent editors are kept.
MAX_PRESENT = 20


def _without_cache(unavailable):
    """When the cache is down, nobody is shown as present: the page itself must still work."""

    def decorate(function):
        @wraps(function)
        def guarded(obj, user):
            try:
                return function(obj, user)
            except (RedisError, OSError) as error:
                logger.warning("Presence unavailable for %s: %s", _key(obj), error)
                return unavailable

        return guarded

    return decorate


def _key(obj):
    return f"newsroom:presence:{obj._meta.label_lower}:{obj.pk}"


def _live(entries, now):
    return {
        user_id: entry for user_id, entry in entries.items() if now - entry[2] < GONE_AFTER and isinstance(user_id, int)
    }


@_without_cache([])
def beat(obj, user):
    """Record that ``user`` has ``obj`` open now; return the others who have it open."""
    now = timezone.now().timestamp()
    key = _key(obj)
    entries = _live(cache.get(key) or {}, now)
    _, first_seen, _ = entries.get(user.pk, (None, now, now))
    entries[user.pk] = (_name(user), first_seen, now)
    kept = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:MAX_PRESENT]
    cache.set(key, dict(kept), GONE_AFTER)
    return _others(dict(kept), user)


@_without_cache(None)
def leave(obj, user):
    """Forget that ``user`` has ``obj`` open: the page was closed or left."""
    key = _key(obj)
    entries = _live(cache.get(key) or {}, timezone.now().timestamp())
    if entries.pop(user.pk, None) is not None:
        cache.set(key, entries, GONE_AFTER)


@_without_cache([])
def others(obj, user):
    """The people other than ``user`` who have ``obj`` open, longest there first."""
    return _others(_live(cache.get(_key(obj)) or {}, timezone.now().timestamp()), user)


def _others(entries, user):
    return [
        {"name": name, "since": datetime.fromtimestamp(first_seen, tz=UTC)}
        for user_id, (name, first_seen, _) in sorted(entries.items(), key=lambda item: item[1][1])
        if user_id != user.pk
    ]


def _name(user):
    return user.get_full_name() or user.get_username()
