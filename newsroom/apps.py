from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NewsroomConfig(AppConfig):
    """The admin of every model and what every admin page shares: workflow, locking, revisions, corrections."""

    name = "newsroom"
    verbose_name = "Newsroom"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from digest.signals import issue_transitioned

        from .notifications import notify_on_transition

        issue_transitioned.connect(notify_on_transition, dispatch_uid="newsroom.notify_on_transition")


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the newsroom's site (its home page is the newsroom's, not the app list)."""

    default = False  # named in INSTALLED_APPS; "newsroom" itself is NewsroomConfig
    default_site = "newsroom.sites.NewsroomAdminSite"
