from django.db import models
from django.urls import reverse
from django.utils import timezone

from stories.models import Story, validate_no_top_level_headings
from stories.rendering import RenderedMarkdownModel


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


class IssueQuerySet(models.QuerySet):
    def published(self):
        """Issues the public may see: the one definition every public page starts from."""
        return self.filter(state=IssueState.PUBLISHED, published_at__lte=timezone.now())

    def latest_published(self):
        return self.published().order_by("-week_start", "-number").first()


class Issue(RenderedMarkdownModel, models.Model):
    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="The issue's web address, usually its first day: 2026-04-18."
    )
    week_start = models.DateField()
    week_end = models.DateField()
    week_in_review = models.TextField(
        "Week in Review", blank=True, validators=[validate_no_top_level_headings], help_text="Markdown."
    )
    week_in_review_html = models.TextField(blank=True, editable=False)
    patterns = models.TextField(
        "Patterns Across Companies", blank=True, validators=[validate_no_top_level_headings], help_text="Markdown."
    )
    patterns_html = models.TextField(blank=True, editable=False)
    state = models.CharField(max_length=20, choices=IssueState.choices, default=IssueState.DRAFT, db_index=True)
    publish_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduled issue goes live.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The PDF edition, stored by digest.edition.store_issue_pdf and rebuilt when its content changes.
    pdf = models.FileField("PDF", upload_to="issues/pdf/", max_length=255, blank=True, editable=False)
    pdf_content_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of what the stored PDF was rendered from."
    )
    pdf_pages = models.PositiveIntegerField("PDF pages", null=True, blank=True, editable=False)
    pdf_size = models.PositiveIntegerField("PDF size", null=True, blank=True, editable=False, help_text="In bytes.")
    pdf_rendered_at = models.DateTimeField("PDF rendered at", null=True, blank=True, editable=False)

    objects = IssueQuerySet.as_manager()

    rendered_fields = {"week_in_review": "week_in_review_html", "patterns": "patterns_html"}

    class Meta:
        ordering = ["-week_start", "-number"]
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
        return reverse("issue_detail", kwargs={"slug": self.slug})

    @property
    def is_public(self):
        return self.state == IssueState.PUBLISHED and self.published_at is not None

    def placements_in(self, section):
        return [placement for placement in self.placements.all() if placement.section == section]


class Placement(models.Model):
    """Where a story stands in an issue: its section and position. A story has at most one."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="placements")
    story = models.OneToOneField(Story, on_delete=models.CASCADE, related_name="placement")
    section = models.PositiveSmallIntegerField(choices=Section.choices, default=Section.TOP_STORIES)
    position = models.PositiveIntegerField(default=0, help_text="Order within the section, smallest first.")

    class Meta:
        ordering = ["issue", "section", "position", "id"]
        indexes = [models.Index(fields=["issue", "section", "position"])]

    def __str__(self):
        return f"{self.story} in {self.issue} ({self.get_section_display()})"
