from django.db import models
from django.utils import timezone

from digest.models import RetriedWork


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


class NewsroomMail(RetriedWork):
    """A mail to someone in the newsroom about an issue (waiting for review, changes requested,
    changed after approval), written in the transaction of the transition that calls for it.

    ``newsroom.notifications`` writes it; a worker sends it after the commit and the beat sends
    what a dead worker or a mail server that did not answer left. A sent mail's row is deleted;
    one that failed ``MAX_ATTEMPTS`` times stays, with its error, for the admin.
    """

    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()

    class Meta(RetriedWork.Meta):
        verbose_name = "newsroom mail not sent yet"
        verbose_name_plural = "newsroom mail not sent yet"

    def __str__(self):
        return f"To {self.to}: {self.subject}"
