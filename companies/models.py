from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords

from .addresses import slug_address

# Only web links: a javascript: or file: URL must never reach a reader's page or the PDF.
web_url_validator = URLValidator(schemes=["http", "https"])


class CompanyQuerySet(models.QuerySet):
    def with_parent(self):
        return self.select_related("parent")


class Company(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True, help_text="Used in the company's web address.")
    website = models.URLField(blank=True, validators=[web_url_validator], help_text="http or https only.")
    description = models.CharField(max_length=500, blank=True, help_text="One or two sentences, plain text.")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
        help_text="The owning company, e.g. Amazon for AWS.",
    )

    version = models.PositiveIntegerField(default=0, editable=False)

    objects = CompanyQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        indexes = [
            # Admin search and autocomplete (``icontains``, in upper case) on trigrams; PostgreSQL only.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="company_name_trigram"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="company_not_its_own_parent",
                violation_error_message="A company cannot be its own parent.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_address("company_detail", self.slug)

    def clean(self):
        ancestor, seen = self.parent, {self.pk}
        while ancestor is not None:
            if ancestor.pk in seen:
                raise ValidationError({"parent": "This parent would make a loop of companies owning each other."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
