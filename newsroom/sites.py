"""The newsroom's admin site: Django's, with a home page of what needs doing instead of the app list."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone


class NewsroomAdminSite(admin.AdminSite):
    site_header = "Engineering @ Scale"
    site_title = "Engineering @ Scale CMS"
    index_title = "Newsroom"
    index_template = "admin/newsroom_home.html"

    def get_urls(self):
        return [path("models/", self.admin_view(self.models_view), name="models"), *super().get_urls()]

    def index(self, request, extra_context=None):
        """The home page: awaiting my review, my drafts, scheduled, what failed, recent activity."""
        from .home import newsroom_home

        urls = {
            "issues": reverse("admin:digest_issue_changelist", current_app=self.name),
            "stories": reverse("admin:stories_story_changelist", current_app=self.name),
            "runs": reverse("admin:digest_publicationrun_changelist", current_app=self.name),
        }
        now = timezone.now()
        context = {"now": now, "parts": newsroom_home(request.user, now=now, urls=urls), **(extra_context or {})}
        return super().index(request, context)

    def models_view(self, request):
        """Every model this user may see, by app: the list Django's admin opens on."""
        context = {
            **self.each_context(request),
            "title": "Everything in the newsroom",
            "subtitle": None,
            "app_list": self.get_app_list(request),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/newsroom_models.html", context)
