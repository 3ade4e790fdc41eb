from django.db import models
from django.utils import timezone


class KeptForm(models.Model):
    """What an admin form posted after its session had expired, kept until its author logs in again.

    ``newsroom.kept_forms`` keeps and restores these; they expire after a day.
    """

    key = models.CharField(max_length=64, primary_key=True, help_text="Names the kept form in the restore URL.")
    browser_key = models.CharField(max_length=64, help_text="The cookie of the browser that posted it.")
    path = models.CharField(max_length=2000, help_text="The admin page the form was posted to.")
    data = models.JSONField(help_text="The posted fields: name → list of values.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"Form posted to {self.path} at {self.created_at:%Y-%m-%d %H:%M}"
