from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "stories"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import search_vector  # noqa: F401 - connects the receivers keeping search vectors current
