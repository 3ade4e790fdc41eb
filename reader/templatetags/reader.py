"""Template helpers for the reader site's pages."""

import json
from html import unescape

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

register = template.Library()

# The characters that could end the <script> element or start markup inside it.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def absolute_url(context, path):
    """Return ``path`` as an absolute URL on the host the page was requested from."""
    return context["request"].build_absolute_uri(path)


@register.filter
def json_ld(data):
    """Render ``data`` as a JSON-LD block, escaped like Django's ``json_script``.

    A data block is not executed, so it needs no Content-Security-Policy exception.
    """
    encoded = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(encoded))  # noqa: S308


@register.filter
def plain_text(html):
    """The text of HTML the site rendered (Markdown), for a summary line or a meta description.

    Tags dropped and entities decoded, so that the template's escaping is the only one:
    ``striptags`` alone keeps "&amp;", which the template escapes again ("AT&amp;T").
    """
    return unescape(strip_tags(html)).strip()
