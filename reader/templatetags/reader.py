"""Template helpers for the reader site's pages."""

import json
from html import unescape

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import dateformat
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from reader.markup import format_html, format_html_join

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


SUMMARY_WORDS = 40  # of a timeline entry's summary
_COMPANY_SEPARATOR = mark_safe('<span aria-hidden="true"> · </span>')


@register.simple_tag
def timeline_entry(story):
    """One story of a company's, theme's or tag's timeline: its issue, title, summary and companies.

    Written here rather than in a template, as ``search_result``: Django's engine took
    0.2 ms an entry, a fifth of a busy company's page. Every text is escaped by ``format_html``
    (``reader.markup``'s, Django's without its lazy-string wrapper).
    """
    issue = story.placement.issue
    issue_url = issue.get_absolute_url()
    return format_html(
        '<li class="timeline-entry">\n'
        '    <p class="timeline-issue"><a href="{issue_url}">Issue {number}</a> · {day}</p>\n'
        '    <h3 class="timeline-title"><a href="{issue_url}#{slug}">{title}</a></h3>\n'
        '    <p class="timeline-summary">{summary}</p>\n'
        "    {companies}\n"
        "  </li>",
        issue_url=issue_url,
        number=issue.number,
        day=_week_start(issue),
        slug=story.slug,
        title=story.title,
        summary=Truncator(plain_text(story.summary_html)).words(SUMMARY_WORDS, truncate=" …"),
        companies=_companies_line(story.companies.all()),
    )


@register.simple_tag
def search_result(story):
    """One story found by the search (a ``digest.search.SearchResult``): its issue, its title and
    snippet with the matches marked, its companies.

    ``title_html`` and ``snippet_html`` are escaped already (``digest.search.highlighted``).
    """
    issue = story.issue
    issue_url = issue.get_absolute_url()
    return format_html(
        '<li class="result">\n'
        '          <p class="kicker"><a href="{issue_url}">Issue {number}</a> · {day}</p>\n'
        '          <h3><a href="{issue_url}#{slug}">{title}</a></h3>\n'
        "          {snippet}\n"
        "          {companies}\n"
        "        </li>",
        issue_url=issue_url,
        number=issue.number,
        day=_week_start(issue),
        slug=story.slug,
        title=story.title_html,
        snippet=format_html('<p class="snippet">{}</p>', story.snippet_html) if story.snippet_html else "",
        companies=_companies_line(story.companies),
    )


def _week_start(issue):
    return format_html(
        '<time datetime="{}">{}</time>', issue.week_start.isoformat(), dateformat.format(issue.week_start, "j M Y")
    )


def _companies_line(companies):
    links = format_html_join(
        _COMPANY_SEPARATOR, '<a href="{}">{}</a>', ((company.get_absolute_url(), company.name) for company in companies)
    )
    return format_html('<p class="story-meta">{}</p>', links) if links else ""
