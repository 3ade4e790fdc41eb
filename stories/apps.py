from django.apps import AppConfig
from taggit import apps as taggit_apps


class StoriesConfig(AppConfig):
    name = "stories"
    verbose_name = "Stories"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import search_vector  # noqa: F401 - connects the receivers keeping search vectors current


class TagsConfig(taggit_apps.TaggitAppConfig):
    """django-taggit, under the name editors know its one model by."""

    default = False  # named in INSTALLED_APPS; "stories" itself is StoriesConfig
    verbose_name = "Tags"
