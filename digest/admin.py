from django.contrib import admin
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from .models import Issue, Placement
from .pdf_admin import IssuePDFAdminMixin


class PlacementFormSet(BaseInlineFormSet):
    """Label each row's story from the rows already loaded.

    The autocomplete widget would otherwise run one query per row to show the chosen
    story's title: 40 queries for a 40-story issue.
    """

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if not hasattr(self, "_story_labels"):
            self._story_labels = {str(placement.story_id): str(placement.story) for placement in self.get_queryset()}
        form.fields["story"].widget.widget.known_labels = self._story_labels
        return form


class PlacementInline(admin.TabularInline):
    model = Placement
    formset = PlacementFormSet
    fields = ["section", "position", "story"]
    autocomplete_fields = ["story"]
    ordering = ["section", "position", "id"]
    extra = 1
    verbose_name = "story"
    verbose_name_plural = "Stories, by section and position"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("issue", "story")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "story":
            kwargs["widget"] = KnownLabelAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class KnownLabelAutocompleteSelect(admin.widgets.AutocompleteSelect):
    known_labels = {}

    def optgroups(self, name, value, attr=None):
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not selected or not all(v in self.known_labels for v in selected):
            return super().optgroups(name, value, attr)
        options = [self.create_option(name, "", "", False, 0)] if not self.is_required else []
        options += [
            self.create_option(name, v, self.known_labels[v], True, index)
            for index, v in enumerate(selected, start=len(options))
        ]
        return [(None, options, 0)]


@admin.register(Issue)
class IssueAdmin(IssuePDFAdminMixin, admin.ModelAdmin):
    list_display = ["number", "title", "week_start", "week_end", "state", "published_at", "story_count"]
    list_display_links = ["number", "title"]
    list_filter = ["state"]
    search_fields = ["title", "slug", "=number"]
    date_hierarchy = "week_start"
    prepopulated_fields = {"slug": ["week_start"]}
    readonly_fields = ["state", "published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["number", "title", "slug", ("week_start", "week_end")]}),
        ("Texts", {"fields": ["week_in_review", "patterns"]}),
        ("Publication", {"fields": ["state", "publish_at", "published_at", "created_at", "updated_at"]}),
    ]
    inlines = [PlacementInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(story_count=Count("placements"))

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, issue):
        return issue.story_count
