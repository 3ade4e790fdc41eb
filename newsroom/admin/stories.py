import taggit.admin  # noqa: F401 - registers taggit's Tag admin, replaced below
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.utils.text import smart_split, unescape_string_literal
from taggit.models import Tag

from companies.models import Company
from digest.models import IssueState
from digest.workflow import can_edit_story, ensure_can_edit_story
from stories.models import Source, Story, Theme

from .corrections import CorrectionAdmin
from .counts import row_count
from .protection import ProtectPublishedAdmin, RenameCorrectionAdmin
from .revisions import RevisionsAdmin


class SourceFormSet(BaseInlineFormSet):
    """Say so when a source row of the form is gone, instead of an error on a hidden field.

    An import (``--replace``) makes a story's sources anew, and another editor may delete
    one: a form opened before posts ids that no longer exist, which the admin reports as
    "Please correct the error below" with no error shown.
    """

    def clean(self):
        super().clean()
        if any("id" in form.errors for form in self.initial_forms):
            raise ValidationError(
                "Some of these sources were replaced or deleted after you opened this story. "
                "Nothing was saved: copy what you need, reload the story, and add it again."
            )


class SourceInline(admin.TabularInline):
    model = Source
    formset = SourceFormSet
    fields = ["position", "title", "publisher", "url"]
    extra = 1


class CompanyFilter(admin.SimpleListFilter):
    """Filter stories by one company, given by id (``?company=``), without listing them all.

    A list of every company would render thousands of links on each changelist; the
    filter is reached from a company's row in the companies list, and only the chosen
    company is shown, so it can be cleared.
    """

    title = "company"
    parameter_name = "company"

    def lookups(self, request, model_admin):
        chosen = self.value()
        if not chosen or not chosen.isdigit():
            return []
        return [(str(company.pk), company.name) for company in Company.objects.filter(pk=chosen)]

    def queryset(self, request, queryset):
        chosen = self.value()
        if chosen and chosen.isdigit():
            return queryset.filter(companies=chosen)
        return queryset


class PublishedFilter(admin.SimpleListFilter):
    """Stories in a published issue, or not yet: the home page's "your stories" links here."""

    title = "publication"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("no", "Not yet published"), ("yes", "In a published issue")]

    def queryset(self, request, queryset):
        published = Q(placement__issue__state=IssueState.PUBLISHED)
        if self.value() == "yes":
            return queryset.filter(published)
        if self.value() == "no":
            return queryset.filter(Q(placement__isnull=True) | ~published)
        return queryset


@admin.register(Story)
class StoryAdmin(ProtectPublishedAdmin, CorrectionAdmin, RevisionsAdmin):
    list_display = ["title", "issue", "company_names", "author", "updated_at"]
    list_select_related = ["author", "placement__issue"]
    list_filter = [CompanyFilter, PublishedFilter, "themes", "placement__section", "updated_at"]
    # Counting every story for "N total" is a full scan on each page; the filtered count is enough.
    show_full_result_count = False
    search_fields = ["title", "slug", "companies__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["companies", "themes"]
    readonly_fields = ["author", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "seen_version"]}),
        ("Classification", {"fields": ["companies", "themes", "tags"]}),
        ("Record", {"fields": ["author", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [SourceInline]
    revision_children_label = "Sources"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("companies")

    def get_search_results(self, request, queryset, search_term):
        """Find stories with every word in the title, the slug or a company's name.

        The admin's own search does the same with a join and a DISTINCT over whole story
        rows, which took half a second at 52,000 stories. Here each word is a union of
        story ids, each found on a trigram index, and no row can come twice.
        """
        for word in _search_words(search_term):
            matching = (
                Story.objects.filter(title__icontains=word).order_by().values("pk")
                .union(
                    Story.objects.filter(slug__icontains=word).order_by().values("pk"),
                    Story.companies.through.objects.filter(company__name__icontains=word).values("story_id"),
                )
            )  # fmt: skip
            queryset = queryset.filter(pk__in=matching)
        return queryset, False

    def issue_of(self, story):
        placement = getattr(story, "placement", None)
        return placement.issue if placement else None

    def ensure_can_edit(self, user, story):
        ensure_can_edit_story(user, story)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or can_edit_story(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or can_edit_story(request.user, obj))

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Issue", ordering="placement__issue__number")
    def issue(self, story):
        return self.issue_of(story) or "—"

    @admin.display(description="Companies")
    def company_names(self, story):
        return ", ".join(company.name for company in story.companies.all())


def _search_words(search_term):
    """Split a search as the admin does: on spaces, keeping "quoted phrases" together."""
    for word in smart_split(search_term):
        if word[:1] in ('"', "'") and word[-1:] == word[:1]:
            word = unescape_string_literal(word)
        if word:
            yield word


@admin.register(Theme)
class ThemeAdmin(RenameCorrectionAdmin, RevisionsAdmin):
    list_display = ["name", "slug", "story_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        story_count = row_count(Story.themes.through.objects.filter(theme=OuterRef("pk")))
        return super().get_queryset(request).annotate(story_count=story_count).order_by("name")

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, theme):
        return theme.story_count


admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(RenameCorrectionAdmin, admin.ModelAdmin):
    """Tags under the same rule as companies and themes.

    Replaces taggit's own admin, whose "merge tags" action and tagged-item inline retag
    published stories with no correction (and its merge view checks no permission).
    """

    list_display = ["name", "slug"]
    ordering = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
