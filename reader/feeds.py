"""RSS and Atom feeds: every issue in full, and the stories of one company or one theme."""

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed

from digest.models import Issue, Placement, Section
from digest.public import newest, public_companies, public_stories, public_themes

from . import keys
from .page_cache import add_keys

ISSUES_IN_FEED = 50
STORIES_IN_FEED = 50


# Characters XML 1.0 cannot carry: an editor can paste them (a form feed from a PDF, say),
# and Django's feed writer refuses them with an exception, so one would break the feed.
XML_ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(value):
    if isinstance(value, str):
        return XML_ILLEGAL_CHARACTERS.sub("", value)
    if isinstance(value, list | tuple):
        return [_xml_safe(element) for element in value]
    return value


class XmlSafeFeed(Feed):
    """A feed that drops the characters XML cannot carry from every text it writes.

    It is filed under ``keys(obj)``, like the page it follows.
    """

    def keys(self, obj):
        raise NotImplementedError

    def get_feed(self, obj, request):
        add_keys(request, *self.keys(obj))
        feed = super().get_feed(obj, request)
        feed.feed = {key: _xml_safe(value) for key, value in feed.feed.items()}
        feed.items = [{key: _xml_safe(value) for key, value in item.items()} for item in feed.items]
        return feed


class AtomWithContent(Atom1Feed):
    """Atom carrying each item's full HTML in <content>, where feed readers look for it."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("content", item["description"], {"type": "html"})


class IssueFeed(XmlSafeFeed):
    """The latest issues, each with its whole text."""

    title = settings.SITE_NAME
    description = "A weekly digest of engineering news from large companies."
    description_template = "digest/issue_feed_item.html"

    def link(self):
        return "/"

    def keys(self, obj):
        return [keys.ISSUES]

    def items(self):
        placements = Placement.objects.select_related("story").order_by("section", "position", "id")
        return (
            Issue.objects.published()
            .order_by("-week_start", "-number")
            .prefetch_related(
                Prefetch("placements", queryset=placements),
                "placements__story__companies",
                "placements__story__sources",
            )[:ISSUES_IN_FEED]
        )

    def item_title(self, issue):
        return issue.title

    def get_context_data(self, *, item, **kwargs):
        context = super().get_context_data(item=item, **kwargs)
        context["sections"] = [
            (section, [placement.story for placement in item.placements_in(section)]) for section in Section
        ]
        return context

    def item_pubdate(self, issue):
        return issue.published_at

    def item_updateddate(self, issue):
        return issue.updated_at


class AtomIssueFeed(IssueFeed):
    feed_type = AtomWithContent
    subtitle = IssueFeed.description


class StoryFeed(XmlSafeFeed):
    """The stories of one company or theme, newest first, each linking into its issue."""

    description_template = "includes/story_feed_item.html"
    kind = ""

    def title(self, topic):
        return f"{topic.name} — {settings.SITE_NAME}"

    def link(self, topic):
        return topic.get_absolute_url()

    def description(self, topic):
        return f"Stories about {topic.name} in {settings.SITE_NAME}."

    def stories(self, topic):
        raise NotImplementedError

    def items(self, topic):
        return newest(self.stories(topic), limit=STORIES_IN_FEED, prefetch=("sources", "companies"))

    def item_title(self, story):
        return story.title

    def item_link(self, story):
        return f"{story.placement.issue.get_absolute_url()}#{story.slug}"

    def item_pubdate(self, story):
        return story.placement.issue.published_at

    def item_categories(self, story):
        return [company.name for company in story.companies.all()]


class CompanyFeed(StoryFeed):
    def get_object(self, request, slug):
        return get_object_or_404(public_companies(), slug=slug)

    def keys(self, company):
        return [keys.company_key(company.pk)]

    def stories(self, company):
        return public_stories().filter(companies=company)


class AtomCompanyFeed(CompanyFeed):
    feed_type = AtomWithContent


class ThemeFeed(StoryFeed):
    def get_object(self, request, slug):
        return get_object_or_404(public_themes(), slug=slug)

    def keys(self, theme):
        return [keys.theme_key(theme.pk)]

    def stories(self, theme):
        return public_stories().filter(themes=theme)


class AtomThemeFeed(ThemeFeed):
    feed_type = AtomWithContent
