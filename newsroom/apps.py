from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    """The admin of every model and what every admin page shares: workflow, locking, revisions, corrections."""

    name = "newsroom"
    verbose_name = "Newsroom"

    def ready(self):
        from digest.signals import issue_transitioned

        from .notifications import notify_on_transition

        issue_transitioned.connect(notify_on_transition, dispatch_uid="newsroom.notify_on_transition")
