from django.db import models
from django.utils import timezone


class PagePurge(models.Model):
    """Keys to purge: written with the change that made their pages stale, deleted once purged.

    The purge is tried as soon as the change commits and again by the beat every minute
    until the cache answers, so a cache outage delays a purge but never loses it.
    """

    keys = models.JSONField(help_text="The keys whose cached pages are dropped (reader.keys).")
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Purge of {len(self.keys)} key{'s' if len(self.keys) != 1 else ''}"
