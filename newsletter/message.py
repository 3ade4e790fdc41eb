"""An issue as an email: rendered once per mailing, from the same stored HTML the site shows.

``render_issue_message`` returns the HTML part (CSS inlined by css-inline, light and dark,
one column that fits a phone) and a plain-text part that reads on its own, links listed
after each story. Both carry ``UNSUBSCRIBE_PLACEHOLDER`` where each recipient's own
unsubscribe link goes (``personalise``): nothing else differs between recipients.

Gmail clips an HTML part over 102 KB. When the whole issue would pass
``NEWSLETTER_MAX_HTML_BYTES``, each story is cut to its opening, with a link to read on
at the site, and the message says so; the openings are shortened further until it fits.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import css_inline
from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from digest.models import Placement, Section

UNSUBSCRIBE_PLACEHOLDER = "https://newsletter.invalid/unsubscribe-link"
# Characters of each story's opening when the whole issue does not fit; then none (titles
# and links only), which fits any issue the newsroom accepts.
OPENING_LENGTHS = (700, 300, 0)

_inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    preheader: str
    html: str
    text: str
    shortened: bool


def site_url(path):
    """The absolute address of a path of the site, as a subscriber's mail client needs it."""
    return urljoin(settings.SITE_URL.rstrip("/") + "/", path.lstrip("/"))


def render_issue_message(issue, *, subject, preheader=""):
    """Render the issue's message for every recipient of a mailing (``UNSUBSCRIBE_PLACEHOLDER`` left in)."""
    placements = list(
        Placement.objects.filter(issue=issue)
        .select_related("story")
        .prefetch_related(
            Prefetch("story__companies", to_attr="company_list"),
            Prefetch("story__sources", to_attr="source_list"),
        )
        .order_by("section", "position", "id")
    )
    sections = [
        (section.label, [placement.story for placement in placements if placement.section == section])
        for section in Section
    ]
    web_url = site_url(issue.get_absolute_url())
    context = {
        "issue": issue,
        "subject": subject,
        "preheader": preheader,
        "sections": [(label, stories) for label, stories in sections if stories],
        "web_url": web_url,
        "pdf_url": site_url(reverse("issue_pdf", kwargs={"slug": issue.slug})),
        "site_url": site_url("/"),
        "site_name": settings.SITE_NAME,
        "postal_address": settings.NEWSLETTER_POSTAL_ADDRESS,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }
    shortened = False
    body = _render_html({**context, "opening": None})
    for length in OPENING_LENGTHS:
        if len(body.encode()) <= settings.NEWSLETTER_MAX_HTML_BYTES:
            break
        shortened = True
        body = _render_html({**context, "opening": length, "shortened": True})
    text = _render_text({**context, "shortened": shortened, "opening": _text_opening(shortened)})
    return RenderedMessage(subject, preheader, body, text, shortened)


def _text_opening(shortened):
    return OPENING_LENGTHS[0] if shortened else None


def _render_html(context):
    opening = context.get("opening")
    for _, stories in context["sections"]:
        for story in stories:
            story.mail_html = (
                story.summary_html
                if opening is None
                else Truncator(story.summary_html).chars(opening, html=True)
                if opening
                else ""
            )
            story.read_on_url = f"{context['web_url']}#{story.slug}"
    for field in ("week_in_review_html", "patterns_html"):
        text = getattr(context["issue"], field)
        context[field] = text if opening is None else Truncator(text).chars(opening, html=True) if opening else ""
    return _inliner.inline(render_to_string("newsletter/issue_email.html", context))


def _render_text(context):
    for _, stories in context["sections"]:
        for story in stories:
            summary = story.summary_html
            if context["opening"]:
                summary = Truncator(summary).chars(context["opening"], html=True)
            story.mail_text, links = html_to_text(summary)
            story.mail_links = [*links, *((s.title, s.url) for s in story.source_list if s.url)]
    issue = context["issue"]
    context["week_in_review_text"] = html_to_text(issue.week_in_review_html)[0]
    context["patterns_text"] = html_to_text(issue.patterns_html)[0]
    text = render_to_string("newsletter/issue_email.txt", context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


class _TextWriter(HTMLParser):
    """Stored story HTML (sanitised Markdown) as plain text: paragraphs, list items, links numbered."""

    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "table", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self.href = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag):
        if tag == "a" and self.href:
            self.links.append(self.href)
            self.parts.append(f" [{len(self.links)}]")
            self.href = None
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(fragment):
    """Return the text of an HTML fragment and the links it had, numbered in the text as [1], [2]…"""
    writer = _TextWriter()
    writer.feed(fragment or "")
    writer.close()
    lines = [" ".join(line.split()) for line in "".join(writer.parts).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, [(f"[{n}]", href) for n, href in enumerate(writer.links, 1)]


def personalise(rendered, token):
    """The HTML and text of a rendered message for the subscriber whose unsubscribe token is ``token``."""
    url = unsubscribe_url(token)
    return rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, url), rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, url)


def unsubscribe_url(token):
    return site_url(reverse("newsletter:unsubscribe", kwargs={"token": token}))
