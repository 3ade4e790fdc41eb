from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "digest"
    verbose_name = "Issues and publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The publish run stops runs on unschedule and withdraw (a receiver of the workflow's
        # signal), and its tasks are looked up by name: both must be loaded in every process.
        # The approval's receivers send a changed approved issue back to review.
        from . import approval, publishing, tasks  # noqa: F401
