from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed calls to subscribers' addresses when an issue is published, corrected or withdrawn."""

    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"
