from django.apps import AppConfig


class ReaderConfig(AppConfig):
    """The public site: pages, feeds, sitemap, the PDF download, the page cache and its purges."""

    name = "reader"
    verbose_name = "Reader site"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signal_handlers

        signal_handlers.connect()
