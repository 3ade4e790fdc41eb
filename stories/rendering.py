"""Markdown to safe HTML, done once when a text is saved."""

import nh3
from markdown_it import MarkdownIt

# Raw HTML in Markdown is shown as text, not interpreted; nh3 then allows only the tags
# Markdown itself produces and only web and mail links, as a second line of defence.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def atx_heading_levels(text):
    """Return the level of each '#'-style heading in the text, code blocks excluded."""
    return [
        len(token.markup) for token in _markdown.parse(text) if token.type == "heading_open" and token.markup[:1] == "#"
    ]


def render_markdown(text):
    """Render editor Markdown to sanitised HTML."""
    if not text.strip():
        return ""
    return sanitise_html(_markdown.render(text))


def sanitise_html(html):
    """Keep only the tags Markdown produces and web and mail links: the one sanitiser of shown text."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


class RenderedMarkdownModel:
    """Model mixin keeping each Markdown field's rendered HTML beside it.

    ``rendered_fields`` maps a Markdown field to the field holding its HTML.
    """

    rendered_fields = {}

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        for source, target in self.rendered_fields.items():
            setattr(self, target, render_markdown(getattr(self, source)))
            if update_fields is not None and source in update_fields:
                update_fields = {*update_fields, target}
        if update_fields is not None:
            kwargs["update_fields"] = update_fields
        super().save(*args, **kwargs)
