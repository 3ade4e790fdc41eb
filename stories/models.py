from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords
from taggit.forms import TagField
from taggit.managers import TaggableManager
from taggit.models import Tag

from companies.addresses import slug_address
from companies.models import web_url_validator

from .rendering import RenderedMarkdownModel, atx_heading_levels
from .tag_history import TaggedHistoricalRecords

# Bounds on editor text keep Markdown rendering fast whatever is pasted in (a story summary
# is a few paragraphs; 10,000 characters of the worst Markdown render in about 0.15 s).
SUMMARY_MAX_LENGTH = 10_000
ISSUE_TEXT_MAX_LENGTH = 20_000
# Tags: a story has a few (the demo issue's have two); each creates rows when saved, so
# 10,000 of them held a web worker for over a minute. Tag names are taggit's 100 characters.
MAX_TAGS_PER_STORY = 20
MAX_TAG_LENGTH = Tag._meta.get_field("name").max_length
# A tag list as typed: every tag at its longest, quoted, with its separator. Anything longer
# is refused before taggit parses it.
MAX_TAGS_INPUT_LENGTH = MAX_TAGS_PER_STORY * (MAX_TAG_LENGTH + 4)


def validate_no_top_level_headings(text):
    # "# " and "## " start sections and stories in the Markdown interchange file, so texts
    # inside an issue use "### " and below for their own headings.
    if len(text) > ISSUE_TEXT_MAX_LENGTH:
        # Longer than any field with this check allows: its length validator refuses it, and
        # parsing megabytes of Markdown would hold the request for a minute.
        return
    if any(level in (1, 2) for level in atx_heading_levels(text)):
        raise ValidationError("Use ### or smaller for headings here: # and ## are reserved for sections and stories.")


def validate_tag_names(names):
    """Refuse more than MAX_TAGS_PER_STORY tags, or a tag longer than a tag's name may be."""
    if len(names) > MAX_TAGS_PER_STORY:
        raise ValidationError(f"A story has at most {MAX_TAGS_PER_STORY} tags; this has {len(names):,}.")
    for name in names:
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError(f"A tag has at most {MAX_TAG_LENGTH} characters; {name[:40]!r}… has {len(name):,}.")


class StoryTagField(TagField):
    """Taggit's tag field, bounded before anything is parsed or created."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_TAGS_INPUT_LENGTH)  # checked on the raw text, first
        super().__init__(**kwargs)
        self.error_messages["max_length"] = (
            f"Too many or too long tags: a story has at most {MAX_TAGS_PER_STORY} tags "
            f"of up to {MAX_TAG_LENGTH} characters each."
        )

    def clean(self, value):
        names = super().clean(value)
        validate_tag_names(names)
        return names


class StoryTags(TaggableManager):
    """A story's tags, edited with StoryTagField."""

    def formfield(self, form_class=StoryTagField, **kwargs):
        return super().formfield(form_class=form_class, **kwargs)

    def deconstruct(self):
        # Only the form differs: migrations see taggit's own manager, so nothing to migrate.
        name, _, args, kwargs = super().deconstruct()
        return name, "taggit.managers.TaggableManager", args, kwargs


class Theme(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True, help_text="What this theme follows, shown on its page.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_address("theme_detail", self.slug)


class Story(RenderedMarkdownModel, models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=300, unique=True, help_text="Used as the story's anchor and address.")
    summary = models.TextField(
        blank=True,
        validators=[validate_no_top_level_headings, MaxLengthValidator(SUMMARY_MAX_LENGTH)],
        help_text="Markdown. Use ### for headings inside a summary.",
    )
    summary_html = models.TextField(blank=True, editable=False)
    companies = models.ManyToManyField("companies.Company", blank=True, related_name="stories")
    themes = models.ManyToManyField(Theme, blank=True, related_name="stories")
    tags = StoryTags(
        blank=True,
        help_text=f"Free tags, separated by commas: at most {MAX_TAGS_PER_STORY}, each of up to 100 characters.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(
        null=True,
        editable=False,
        help_text="Title, companies, summary and sources for full-text search; kept current by stories.search_vector.",
    )
    version = models.PositiveIntegerField(default=0, editable=False)

    # Tags are taggit's generic relation: each revision keeps their names (stories.tag_history).
    history = TaggedHistoricalRecords(
        excluded_fields=["summary_html", "updated_at", "version", "search_vector"], m2m_fields=[companies, themes]
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "stories"
        indexes = [
            # Created on PostgreSQL only (see the migration): other databases have no tsvector.
            GinIndex(fields=["search_vector"], name="story_search_vector_gin"),
            # The admin's story list, newest first: a page without sorting the whole table.
            models.Index(fields=["-created_at", "-id"], name="story_newest_first"),
            # The admin's search (``icontains``, which compares in upper case) on trigrams;
            # PostgreSQL only, like the search vector's index.
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="story_title_trigram"),
            GinIndex(OpClass(Upper("slug"), name="gin_trgm_ops"), name="story_slug_trigram"),
        ]

    rendered_fields = {"summary": "summary_html"}

    def __str__(self):
        return self.title


class Source(models.Model):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="sources")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=120, blank=True)
    url = models.URLField(
        "URL", max_length=1000, blank=True, validators=[web_url_validator], help_text="http or https only."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title
