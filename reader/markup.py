"""``format_html`` and ``format_html_join`` for markup written in Python on a hot path.

The same escaping as Django's (``conditional_escape``: markup that is already safe is kept,
anything else goes through ``html.escape``), without the lazy-string wrapper Django puts around
each call: a search page escapes about 800 values, and the wrapper cost a third of each.
"""

from html import escape

from django.utils.functional import Promise
from django.utils.safestring import SafeString


def escaped(value):
    """Return ``value`` as safe markup: as it is when it is markup already, escaped otherwise."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def format_html(format_string, *args, **kwargs):
    """Django's ``format_html``: the values escaped, the format string trusted."""
    return SafeString(
        format_string.format(*map(escaped, args), **{name: escaped(value) for name, value in kwargs.items()})
    )


def format_html_join(separator, format_string, args_generator):
    """Django's ``format_html_join``: ``format_string`` filled with each tuple of values, escaped, joined."""
    return SafeString(escaped(separator).join(format_string.format(*map(escaped, args)) for args in args_generator))
