"""Opaque cursors for the API's lists: the sort key of the last item sent, base64url-encoded.

A cursor names a place in a stable order (newest issue first, then reading order; names A
to Z), not an offset, so an issue published between two requests neither repeats nor
skips an item. ``decode`` accepts only what ``encode`` writes: a cursor is canonical, so
the page cache stores each page once (``is_canonical``), and a forged one is a clear 400.
"""

import base64
import binascii
import json

MAX_CURSOR_LENGTH = 512


class InvalidCursor(ValueError):
    pass


def encode(*values):
    """Return the cursor of a sort key (strings and integers)."""
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor, *types):
    """Return the sort key in ``cursor`` as a tuple of ``types``; raise InvalidCursor if it is not one."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("This cursor is too long: use the `next` address of a page as it is.")
    values = _canonical_values(cursor)
    if (
        values is None
        or len(values) != len(types)
        or not all(type(value) is kind for value, kind in zip(values, types, strict=True))
    ):
        raise InvalidCursor("This cursor is not one the API wrote: use the `next` address of a page.")
    return tuple(values)


def is_canonical(cursor):
    """Say whether ``cursor`` is one ``encode`` could have written (the page cache stores only those)."""
    return len(cursor) <= MAX_CURSOR_LENGTH and _canonical_values(cursor) is not None


def _canonical_values(cursor):
    """The list ``encode`` wrote as ``cursor``, or None. Nothing the API sorts by holds a NUL or a
    lone surrogate (no database text can), so a cursor holding one was not written by it."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or encode(*values) != cursor:  # encode raises on a lone surrogate
            return None
    except (binascii.Error, ValueError):  # UnicodeError is a ValueError
        return None
    if any(isinstance(value, str) and "\x00" in value for value in values):
        return None
    return values
