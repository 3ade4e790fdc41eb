import math

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = "Issues and publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The publish run stops runs on unschedule and withdraw (a receiver of the workflow's
        # signal), and its tasks are looked up by name: both must be loaded in every process.
        # The approval's receivers send a changed approved issue back to review.
        from . import approval, publishing, tasks  # noqa: F401

        connection_created.connect(_tune_planner, dispatch_uid="digest.tune_planner")


def _tune_planner(sender, connection, **kwargs):
    """Set the planner's page cost on each new PostgreSQL connection (``POSTGRES_RANDOM_PAGE_COST``)."""
    cost = settings.POSTGRES_RANDOM_PAGE_COST
    if connection.vendor == "postgresql" and not math.isnan(cost):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('random_page_cost', %s, false)", [str(cost)])
