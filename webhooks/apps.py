from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed calls to subscribers' addresses when an issue is published, corrected or withdrawn."""

    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from digest.roles import PUBLISHER, grant

        from . import signal_handlers, tasks  # noqa: F401 - the tasks must be registered in every process

        signal_handlers.connect()
        # Publishers manage the endpoints and see (and redeliver) what was sent.
        grant(PUBLISHER, *[
            "webhooks.add_endpoint", "webhooks.change_endpoint", "webhooks.delete_endpoint", "webhooks.view_endpoint",
            "webhooks.view_delivery", "webhooks.change_delivery", "webhooks.view_attempt",
        ])  # fmt: skip
