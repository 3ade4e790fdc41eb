from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Companies' engineering blogs read on a schedule; new posts wait in the editors' inbox."""

    name = "intake"
    verbose_name = "Intake"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from newsroom.panels import register_issue_panel
        from stories.models import Source

        from . import tasks  # noqa: F401 - the beat finds the tasks by name
        from .inbox import issue_panel_context, source_saved

        post_save.connect(source_saved, sender=Source, dispatch_uid="intake.source_saved")
        register_issue_panel("intake", template="intake/issue_panel.html", context=issue_panel_context)
