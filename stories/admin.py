from django.contrib import admin
from django.db.models import Count

from .models import Source, Story, Theme


class SourceInline(admin.TabularInline):
    model = Source
    fields = ["position", "title", "publisher", "url"]
    extra = 1


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    list_display = ["title", "issue", "company_names", "author", "updated_at"]
    list_select_related = ["author", "placement__issue"]
    list_filter = ["themes", "placement__section", "updated_at"]
    search_fields = ["title", "slug", "companies__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["companies", "themes"]
    readonly_fields = ["author", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary"]}),
        ("Classification", {"fields": ["companies", "themes", "tags"]}),
        ("Record", {"fields": ["author", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [SourceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("companies")

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Issue", ordering="placement__issue__number")
    def issue(self, story):
        placement = getattr(story, "placement", None)
        return placement.issue if placement else "—"

    @admin.display(description="Companies")
    def company_names(self, story):
        return ", ".join(company.name for company in story.companies.all())


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "story_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(story_count=Count("stories", distinct=True))

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, theme):
        return theme.story_count
