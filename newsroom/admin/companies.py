from django.contrib import admin
from django.db.models import OuterRef
from django.urls import reverse
from django.utils.html import format_html

from companies.models import Company
from stories.models import Story

from .approval import ApprovedContentAdmin
from .counts import row_count
from .locking import VersionCheckedForm, VersionLockedAdmin
from .protection import RenameCorrectionAdmin, RenameCorrectionForm
from .revisions import RevisionsAdmin


class CompanyForm(RenameCorrectionForm, VersionCheckedForm):
    pass


@admin.register(Company)
class CompanyAdmin(ApprovedContentAdmin, RenameCorrectionAdmin, VersionLockedAdmin, RevisionsAdmin):
    form = CompanyForm
    list_display = ["name", "parent", "website", "story_count"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    show_full_result_count = False
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    fields = ["name", "slug", "parent", "website", "description", "seen_version"]

    def get_queryset(self, request):
        story_count = row_count(Story.companies.through.objects.filter(company=OuterRef("pk")))
        return super().get_queryset(request).annotate(story_count=story_count).order_by("name")

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, company):
        # Links to the stories' changelist filtered by this company (CompanyFilter).
        url = reverse("admin:stories_story_changelist") + f"?company={company.pk}"
        return format_html('<a href="{}">{}</a>', url, company.story_count)
