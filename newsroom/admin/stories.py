import taggit.admin  # noqa: F401 - registers taggit's Tag admin, replaced below
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.text import smart_split, unescape_string_literal
from django.views.decorators.http import require_POST
from taggit.models import Tag

from companies.models import Company
from digest.assembly import PlacementRefused, add_story_to_issue
from digest.models import Issue, IssueState
from digest.workflow import can_edit_story, ensure_can_edit_story, why_not_edit_story
from stories.models import SUMMARY_MAX_LENGTH, Source, Story, Theme
from stories.rendering import render_markdown

from .approval import ApprovedContentAdmin
from .corrections import CorrectionAdmin
from .counts import row_count
from .presence import PresenceAdmin
from .protection import ProtectPublishedAdmin, RenameCorrectionAdmin
from .revisions import RevisionsAdmin

# "Save and add to issue" on a story's page: the button's name, and how many draft issues it offers.
ADD_TO_ISSUE, ISSUE_TO_ADD_TO = "_add_to_issue", "_issue_to_add_to"
ISSUES_TO_ADD_TO = 10


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
class StoryAdmin(PresenceAdmin, ApprovedContentAdmin, ProtectPublishedAdmin, CorrectionAdmin, RevisionsAdmin):
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

    class Media:
        # newsroom/admin.css comes with every admin page (templates/admin/base_site.html).
        # This Media replaces the one of VersionLockedAdmin, a plain mixin: name its script again.
        js = ["newsroom/unsaved-changes.js", "newsroom/markdown-preview.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("companies")

    def get_urls(self):
        preview = self.admin_site.admin_view(require_POST(self.markdown_preview_view))
        return [path("markdown-preview/", preview, name="stories_story_markdown_preview"), *super().get_urls()]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "summary":
            # static/newsroom/markdown-preview.js shows the rendered summary beside the field.
            formfield.widget.attrs["data-markdown-preview"] = reverse("admin:stories_story_markdown_preview")
        return formfield

    def markdown_preview_view(self, request):
        """Render a summary as typed, as saving it would, for the preview beside the field.

        The body is the raw Markdown (UTF-8), bounded before it is read: no longer than a
        summary may be, so a preview costs at most one bounded render and no query.
        """
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied("Your role may not write stories, so it has no use for their preview.")
        too_long = JsonResponse(
            {"error": f"Too long to preview: a summary holds at most {SUMMARY_MAX_LENGTH:,} characters."}, status=413
        )
        # A character is at most four bytes of UTF-8.
        if int(request.META.get("CONTENT_LENGTH") or 0) > 4 * SUMMARY_MAX_LENGTH:
            return too_long
        try:
            text = request.body.decode()
        except UnicodeDecodeError:
            return JsonResponse({"error": "The preview needs UTF-8 text."}, status=400)
        if len(text) > SUMMARY_MAX_LENGTH:
            return too_long
        problems = []
        for validator in Story._meta.get_field("summary").validators:
            try:
                validator(text)
            except ValidationError as error:
                problems += error.messages
        return JsonResponse({"html": render_markdown(text), "problems": problems})

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

    def why_not_edit(self, user, story):
        return why_not_edit_story(user, story)

    def ensure_can_edit(self, user, story):
        ensure_can_edit_story(user, story)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or can_edit_story(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or can_edit_story(request.user, obj))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        savable = add or self.has_change_permission(request, obj)
        context["issues_to_add_to"] = self._issues_to_add_to(request, obj) if savable else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _issues_to_add_to(self, request, story):
        """Draft issues the story may be added to on save, newest first; none once it is placed."""
        if story is not None and self.issue_of(story) is not None:
            return []
        if not (request.user.has_perm("digest.change_issue") and request.user.has_perm("digest.add_placement")):
            return []
        return list(Issue.objects.filter(state=IssueState.DRAFT).order_by("-number")[:ISSUES_TO_ADD_TO])

    def response_add(self, request, obj, post_url_continue=None):
        if ADD_TO_ISSUE in request.POST:
            return self._add_to_issue(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if ADD_TO_ISSUE in request.POST:
            return self._add_to_issue(request, obj)
        return super().response_change(request, obj)

    def _add_to_issue(self, request, story):
        """The story is saved: place it last in the chosen issue's Top Stories, and open that issue."""
        chosen = request.POST.get(ISSUE_TO_ADD_TO, "")
        issue = Issue.objects.filter(pk=chosen).first() if chosen.isdigit() else None
        back = redirect(reverse("admin:stories_story_change", args=[story.pk]))
        if issue is None:
            messages.error(request, f"“{story}” was saved, but that issue no longer exists: it was not added.")
            return back
        try:
            add_story_to_issue(issue=issue, story=story, by=request.user)
        except (PlacementRefused, PermissionDenied) as error:
            messages.error(request, f"“{story}” was saved, but not added to issue #{issue.number}: {error}")
            return back
        messages.success(request, f"“{story}” was saved and added to issue #{issue.number}, last in Top Stories.")
        return redirect(reverse("admin:digest_issue_change", args=[issue.pk]))

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
class ThemeAdmin(ApprovedContentAdmin, RenameCorrectionAdmin, RevisionsAdmin):
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
class TagAdmin(ApprovedContentAdmin, RenameCorrectionAdmin, admin.ModelAdmin):
    """Tags under the same rule as companies and themes.

    Replaces taggit's own admin, whose "merge tags" action and tagged-item inline retag
    published stories with no correction (and its merge view checks no permission).
    """

    list_display = ["name", "slug"]
    ordering = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
