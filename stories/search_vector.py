"""Keep each story's stored full-text search vector current (PostgreSQL).

A story is found by its title, its companies' names, its summary and its sources, so its
vector depends on rows in three other tables. The receivers below refresh it whenever any
of them changes, in the same transaction as the change. On other databases there is no
tsvector: the column stays empty and the reader's search uses its plain fallback.
"""

from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models import OuterRef, Subquery, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from companies.models import Company

from .models import Source, Story

SEARCH_CONFIG = "english"


def story_search_vector():
    """Return the expression computing a story's search vector from its own row.

    Weights rank a match in the title or a company name above one in the summary, and
    both above one in a source's title or publisher.
    """
    company_names = (
        Story.companies.through.objects.filter(story=OuterRef("pk"))
        .values("story")
        .annotate(names=StringAgg("company__name", " "))
        .values("names")
    )
    source_texts = (
        Source.objects.filter(story=OuterRef("pk"))
        .values("story")
        .annotate(texts=StringAgg(Concat("title", Value(" "), "publisher", output_field=TextField()), " "))
        .values("texts")
    )
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector(
            Coalesce(Subquery(company_names), Value(""), output_field=TextField()), weight="A", config=SEARCH_CONFIG
        )
        + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
        + SearchVector(
            Coalesce(Subquery(source_texts), Value(""), output_field=TextField()), weight="C", config=SEARCH_CONFIG
        )
    )


def update_search_vectors(story_ids):
    """Recompute the search vector of the given stories; a no-op off PostgreSQL."""
    story_ids = [story_id for story_id in story_ids if story_id is not None]
    if connection.vendor != "postgresql" or not story_ids:
        return
    Story.objects.filter(pk__in=story_ids).update(search_vector=story_search_vector())


@receiver(post_save, sender=Story, dispatch_uid="story_search_vector_on_save")
def _story_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        update_search_vectors([instance.pk])


@receiver(m2m_changed, sender=Story.companies.through, dispatch_uid="story_search_vector_on_companies")
def _story_companies_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            update_search_vectors([instance.pk])
    elif action == "pre_clear":
        # After the clear the company no longer knows its stories: remember them now.
        instance._stories_before_clear = list(instance.stories.values_list("pk", flat=True))
    elif action == "post_clear":
        update_search_vectors(getattr(instance, "_stories_before_clear", []))
    elif action in ("post_add", "post_remove"):
        update_search_vectors(pk_set or [])


@receiver(post_save, sender=Source, dispatch_uid="story_search_vector_on_source_save")
@receiver(post_delete, sender=Source, dispatch_uid="story_search_vector_on_source_delete")
def _source_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        update_search_vectors([instance.story_id])


@receiver(post_save, sender=Company, dispatch_uid="story_search_vector_on_company_save")
def _company_saved(sender, instance, raw=False, created=False, **kwargs):
    # A renamed company must be found under its new name in every story that involves it.
    if not raw and not created:
        update_search_vectors(instance.stories.values_list("pk", flat=True))


@receiver(pre_delete, sender=Company, dispatch_uid="story_search_vector_on_company_delete")
def _company_deleted(sender, instance, **kwargs):
    instance._stories_before_delete = list(instance.stories.values_list("pk", flat=True))


@receiver(post_delete, sender=Company, dispatch_uid="story_search_vector_after_company_delete")
def _company_gone(sender, instance, **kwargs):
    update_search_vectors(getattr(instance, "_stories_before_delete", []))
