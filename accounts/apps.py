from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff accounts: second factors, passkeys, sessions one can see and end, the sign-in record."""

    name = "accounts"
    verbose_name = "Staff accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signal_handlers

        signal_handlers.connect()
