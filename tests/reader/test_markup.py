"""reader.markup's format_html and format_html_join write what Django's write, for any value."""

import datetime

from django.utils import html as django
from django.utils.functional import lazy
from django.utils.safestring import SafeString, mark_safe

from reader import markup

VALUES = [
    "<script>alert(\"x\")</script> & 'quotes'",
    mark_safe("<mark>kept</mark> &amp; safe"),
    lazy(lambda: "<lazy> & text", str)(),
    42,
    datetime.date(2026, 4, 18),
    None,
    "",
    "AT&amp;T",
]


def test_each_value_is_escaped_as_django_escapes_it():
    for value in VALUES:
        ours = markup.format_html("<p title='{}'>{}</p>", value, value)
        assert ours == django.format_html("<p title='{}'>{}</p>", value, value)
        assert isinstance(ours, SafeString)
        named = markup.format_html('<a href="{url}">{text}</a>', url=value, text=value)
        assert named == django.format_html('<a href="{url}">{text}</a>', url=value, text=value)


def test_joined_values_are_escaped_as_django_joins_them():
    pairs = [(value, value) for value in VALUES]
    for separator in (mark_safe("<span> · </span>"), " & "):
        ours = markup.format_html_join(separator, '<a href="{}">{}</a>', pairs)
        assert ours == django.format_html_join(separator, '<a href="{}">{}</a>', pairs)
        assert isinstance(ours, SafeString)
