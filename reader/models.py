from django.db import models

from digest.issue_page import body_template_hash
from digest.models import RetriedWork


class PagePurge(RetriedWork):
    """Keys to purge: written with the change that made their pages stale, deleted once purged.

    The purge is tried as soon as the change commits and again by the beat every minute
    until the cache answers, so a cache outage delays a purge but never loses it.
    """

    keys = models.JSONField(help_text="The keys whose cached pages are dropped (reader.keys).")

    def __str__(self):
        return f"Purge of {len(self.keys)} key{'s' if len(self.keys) != 1 else ''}"


class StoredIssueBody(models.Model):
    """The rendered body of a published issue's page (``digest.issue_page.render_issue_body``).

    The issue page is served from it, so an uncached request costs one query and one small
    template. It is stale from the moment something it shows changes: whatever purges the
    issue's keys bumps ``generation`` in the transaction of the change
    (``reader.issue_bodies.mark_stale``), the page is rendered afresh while
    ``built_generation`` lags behind, and a worker (woken after the commit, and by the beat
    every minute) renders and stores it again.
    """

    issue = models.OneToOneField("digest.Issue", on_delete=models.CASCADE, primary_key=True, related_name="stored_body")
    html = models.TextField(blank=True)
    head_html = models.TextField(blank=True)
    stories = models.JSONField(default=list, help_text="Each story's headline, anchor and companies, for JSON-LD.")
    # The neighbours the body links to: a purge of their link keys makes it stale.
    previous_issue_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    next_issue_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    template_hash = models.CharField(max_length=64, blank=True, help_text="The templates it was rendered with.")
    generation = models.PositiveBigIntegerField(default=1, help_text="Bumped by every change to what it shows.")
    built_generation = models.PositiveBigIntegerField(default=0, help_text="The generation the body was built at.")
    built_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"Stored body of issue {self.issue_id}"

    @property
    def is_current(self):
        """Built since the last change to what it shows, with the templates this process has."""
        return self.built_generation == self.generation and self.template_hash == body_template_hash()


class StoredFigures(models.Model):
    """Figures a public page shows that would cost a count over thousands of rows on each render.

    One row per purge key (``reader.keys``): a company's coverage and the companies covered
    alongside it under ``company-<id>``, the search's years under ``issues``, and so on
    (``reader.figures``). Each purge of the key bumps ``generation`` once its change has
    committed, creating the row if need be; the figures are stored again by the first render
    that finds them stale.
    """

    key = models.CharField(primary_key=True, max_length=100)
    figures = models.JSONField(default=dict, help_text="Figure name → value, as of built_generation.")
    generation = models.PositiveBigIntegerField(default=1, help_text="Bumped by every purge of the key.")
    built_generation = models.PositiveBigIntegerField(default=0, help_text="The generation the figures are of.")

    class Meta:
        verbose_name_plural = "stored figures"

    def __str__(self):
        return f"Figures of {self.key}"
