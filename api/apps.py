from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Machines' read-only view of the digest: the JSON API and the JSON Feeds."""

    name = "api"
    verbose_name = "JSON API"
    default_auto_field = "django.db.models.BigAutoField"
