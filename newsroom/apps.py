from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    """The admin of every model and what every admin page shares: workflow, locking, revisions, corrections."""

    name = "newsroom"
    verbose_name = "Newsroom"
