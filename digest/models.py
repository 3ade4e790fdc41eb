from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from companies.addresses import slug_address
from stories.models import ISSUE_TEXT_MAX_LENGTH, Story, validate_no_top_level_headings
from stories.rendering import RenderedMarkdownModel
from stories.search_vector import SEARCH_CONFIG


class IssueState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Section(models.IntegerChoices):
    """The story sections of an issue; their values give the reading order."""

    TOP_STORIES = 1, "Top Stories"
    DEVELOPING_THREADS = 2, "Developing Threads"


def issue_search_vector():
    """Return the expression of an issue's full-text vector: its title, then its own texts.

    Issues are searched with this expression, and a GIN index on the same expression
    (PostgreSQL) finds the matches without computing the vector of every issue.
    """
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("week_in_review", weight="B", config=SEARCH_CONFIG)
        + SearchVector("patterns", weight="B", config=SEARCH_CONFIG)
    )


def published_issue(prefix=""):
    """Return the condition for a published issue, the one definition every public page starts from.

    ``prefix`` reaches the issue through relations (``"placement__issue__"`` from a story),
    so a query joins the issue table once rather than comparing with a subquery of issues.
    """
    return models.Q(**{f"{prefix}state": IssueState.PUBLISHED, f"{prefix}published_at__lte": timezone.now()})


class IssueQuerySet(models.QuerySet):
    def published(self):
        """Issues the public may see."""
        return self.filter(published_issue())

    def latest_published(self):
        return self.published().order_by("-week_start", "-number").first()

    # The redundant ``week_start`` bound in before() and after() lets PostgreSQL start its
    # walk of the reading-order index at the issue instead of scanning every issue.
    def before(self, issue):
        """Issues earlier than ``issue`` in reading order (week, then number), latest first."""
        earlier = models.Q(week_start__lt=issue.week_start) | models.Q(
            week_start=issue.week_start, number__lt=issue.number
        )
        return self.filter(earlier, week_start__lte=issue.week_start).order_by("-week_start", "-number")

    def after(self, issue):
        """Issues later than ``issue`` in reading order, earliest first."""
        later = models.Q(week_start__gt=issue.week_start) | models.Q(
            week_start=issue.week_start, number__gt=issue.number
        )
        return self.filter(later, week_start__gte=issue.week_start).order_by("week_start", "number")


class Issue(RenderedMarkdownModel, models.Model):
    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="The issue's web address, usually its first day: 2026-04-18."
    )
    week_start = models.DateField()
    week_end = models.DateField()
    week_in_review = models.TextField(
        "Week in Review",
        blank=True,
        validators=[validate_no_top_level_headings, MaxLengthValidator(ISSUE_TEXT_MAX_LENGTH)],
        help_text="Markdown.",
    )
    week_in_review_html = models.TextField(blank=True, editable=False)
    patterns = models.TextField(
        "Patterns Across Companies",
        blank=True,
        validators=[validate_no_top_level_headings, MaxLengthValidator(ISSUE_TEXT_MAX_LENGTH)],
        help_text="Markdown.",
    )
    patterns_html = models.TextField(blank=True, editable=False)
    state = models.CharField(max_length=20, choices=IssueState.choices, default=IssueState.DRAFT, db_index=True)
    publish_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduled issue goes live.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    # The PDF edition, stored by digest.edition.store_issue_pdf and rebuilt when its content changes.
    pdf = models.FileField("PDF", upload_to="issues/pdf/", max_length=255, blank=True, editable=False)
    pdf_content_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of what the stored PDF was rendered from."
    )
    pdf_pages = models.PositiveIntegerField("PDF pages", null=True, blank=True, editable=False)
    pdf_size = models.PositiveIntegerField("PDF size", null=True, blank=True, editable=False, help_text="In bytes.")
    pdf_rendered_at = models.DateTimeField("PDF rendered at", null=True, blank=True, editable=False)
    # What the approval stood for (digest.fingerprint): set by workflow.approve, and by each
    # correction once published. A later change to the content sends the issue back to review.
    approved_fingerprint = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of the content as approved (or last corrected)."
    )
    approved_content = models.JSONField(
        default=dict, blank=True, editable=False, help_text="The content as approved, to say what changed since."
    )

    objects = IssueQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[
            *["week_in_review_html", "patterns_html", "updated_at", "version"],
            *["pdf", "pdf_content_hash", "pdf_pages", "pdf_size", "pdf_rendered_at"],
            *["approved_fingerprint", "approved_content"],
        ]
    )

    rendered_fields = {"week_in_review": "week_in_review_html", "patterns": "patterns_html"}
    # What lists of stories leave unloaded when they only name the issue.
    LONG_TEXT_FIELDS = ("week_in_review", "week_in_review_html", "patterns", "patterns_html")

    class Meta:
        ordering = ["-week_start", "-number"]
        indexes = [
            GinIndex(issue_search_vector(), name="issue_search_vector_gin"),
            # Published issues in reading order: the archive, the latest issue, previous and
            # next and timelines without a sort; with the id and publication time included,
            # joins and counts over published issues never read the wide issue rows.
            models.Index(
                fields=["week_start", "number"],
                include=["id", "published_at"],
                condition=models.Q(state=IssueState.PUBLISHED),
                name="published_reading_order",
            ),
        ]
        permissions = [
            ("review_issue", "Can send issues to review, approve them and request changes"),
            ("publish_issue", "Can schedule, publish, withdraw issues and share previews"),
            ("correct_issue", "Can correct published issues and their stories"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(week_start__lte=models.F("week_end")),
                name="issue_week_start_not_after_end",
                violation_error_message="The week cannot end before it starts.",
            ),
        ]

    def __str__(self):
        return f"#{self.number} {self.title}"

    def get_absolute_url(self):
        return slug_address("issue_detail", self.slug)

    @property
    def is_public(self):
        """Whether the public may see this issue: ``published_issue()``, tested on this row."""
        published_at = self.published_at
        return self.state == IssueState.PUBLISHED and published_at is not None and published_at <= timezone.now()

    def placements_in(self, section):
        return [placement for placement in self.placements.all() if placement.section == section]


class Placement(models.Model):
    """Where a story stands in an issue: its section and position. A story has at most one."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="placements")
    story = models.OneToOneField(Story, on_delete=models.CASCADE, related_name="placement")
    section = models.PositiveSmallIntegerField(choices=Section.choices, default=Section.TOP_STORIES)
    position = models.PositiveIntegerField(default=0, help_text="Order within the section, smallest first.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["issue", "section", "position", "id"]
        indexes = [models.Index(fields=["issue", "section", "position"])]

    def __str__(self):
        return f"{self.story} in {self.issue} ({self.get_section_display()})"


class IssueEvent(models.Model):
    """The audit log: one row per workflow transition or correction of an issue."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, choices=IssueState.choices)
    to_state = models.CharField(max_length=20, choices=IssueState.choices)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.action}: {self.from_state} → {self.to_state}"


class ShareLinkQuerySet(models.QuerySet):
    def live(self):
        """The links that still show their issue: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ShareLink(models.Model):
    """A read-only preview link of an unpublished issue, for a reviewer without an account.

    Its token (``digest.previews``) is signed and carries only this row's id: the row says
    whether the link still works, so one link can be revoked and the others kept.
    """

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Share link {self.pk} of {self.issue_id}"

    @property
    def is_live(self):
        return self.revoked_at is None and self.expires_at > timezone.now()


class Correction(models.Model):
    """A public note of a change made to an issue after it was published."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="corrections")
    note = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.note


class RunState(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Runs a worker still has to advance; the beat re-queues them.
UNFINISHED_RUN_STATES = [RunState.PENDING, RunState.RUNNING]
# Runs that still stand for their request: unfinished, or failed and waiting for a retry.
OPEN_RUN_STATES = [*UNFINISHED_RUN_STATES, RunState.FAILED]


class RunKind(models.TextChoices):
    PUBLISH = "publish", "Publication"
    CORRECTION = "correction", "Correction"


class PublicationRun(models.Model):
    """One durable piece of work on an issue's outputs: its steps are recorded as they complete.

    A publication run takes the issue live; a correction run renders its PDF again after a
    correction.
    """

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="publication_runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.PUBLISH)
    state = models.CharField(max_length=20, choices=RunState.choices, default=RunState.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The database, not a message broker, guarantees one open publication per issue.
            # Correction runs are not limited: each renders whatever is current when it runs.
            models.UniqueConstraint(
                fields=["issue"],
                condition=models.Q(kind=RunKind.PUBLISH, state__in=OPEN_RUN_STATES),
                name="one_open_run_per_issue",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.issue} ({self.get_state_display().lower()})"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PublicationStep(models.Model):
    run = models.ForeignKey(PublicationRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Not retried before this time (backoff).")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="one_step_per_position")]

    def __str__(self):
        return f"{self.name} ({self.get_status_display().lower()})"


class PreviewState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RENDERING = "rendering", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class PDFPreview(models.Model):
    """The DRAFT PDF of an issue as staff last asked for it, rendered by a worker, never by a request.

    One row per issue: a request for a different draft document (the issue changed)
    replaces the row's hash and file; an unchanged issue reuses the stored render.
    """

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="pdf_preview")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the draft document this preview is made from.")
    state = models.CharField(max_length=20, choices=PreviewState.choices, default=PreviewState.REQUESTED)
    file = models.FileField(upload_to="issues/pdf-previews/", max_length=255, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="In bytes.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Renders started for this hash.")
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "PDF preview"
        # The beat's look for previews no worker took or finished.
        indexes = [
            models.Index(
                fields=["state"],
                condition=models.Q(state__in=["requested", "rendering"]),
                name="pdf_preview_unfinished",
            )
        ]

    def __str__(self):
        return f"PDF preview of {self.issue} ({self.get_state_display().lower()})"


class RetriedWork(models.Model):
    """Work a change calls for outside the database, kept as a row until it is done.

    The row is written in the transaction of the change, the work is tried once that commits
    and then by the beat until it succeeds; a try that fails leaves the row, with its error,
    and a try that succeeds deletes it.
    """

    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_tried_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def record_failure(self, error):
        """Keep the row for the next try, saying when this one failed and why."""
        self.attempts += 1
        self.last_tried_at = timezone.now()
        self.last_error = f"{type(error).__name__}: {error}"
        self.save(update_fields=["attempts", "last_tried_at", "last_error"])


class DiscardedFile(RetriedWork):
    """A stored file nothing uses any more (a replaced or withdrawn PDF), to delete from storage.

    Written in the transaction that stops using the file, deleted from storage once that
    commits, and retried by the beat until the storage answers (``digest.stored_files``):
    a storage outage delays a deletion but never loses it.
    """

    name = models.CharField(max_length=255, help_text="The file's name in the media storage.")

    def __str__(self):
        return self.name
