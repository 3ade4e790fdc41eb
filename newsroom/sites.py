"""The newsroom's admin site: Django's, with a home page of what needs doing instead of the app list."""

from functools import wraps

from django.contrib import admin
from django.core.exceptions import SuspiciousOperation
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

    def admin_view(self, view, cacheable=False):
        """Django's, refusing a NUL in the query string with a 400 before any view passes it to the database.

        The admin's list filters hand their values to the database as they come, and PostgreSQL
        answers a NUL in a query with an error (``?state=%00`` answered 500).
        """
        checked = super().admin_view(view, cacheable)

        @wraps(checked)
        def refusing_nul(request, *args, **kwargs):
            if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
                raise SuspiciousOperation("A NUL character in the query string.")
            return checked(request, *args, **kwargs)

        return refusing_nul

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
