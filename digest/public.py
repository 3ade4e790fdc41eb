"""What the reader site may show, all derived from ``published_issue()`` (``digest.models``).

A story is public when its issue is published; a company, theme or tag is public when a
public story names it. Drafts, scheduled and withdrawn issues make nothing public, so a
company that only appears in a draft has no page, no count and no feed.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Count, Exists, Min, OuterRef, Value, When
from django.db.models.functions import Left, Lower, Upper
from taggit.models import Tag

from companies.models import Company
from stories.models import Story, Theme

from .models import Issue, Placement, published_issue


def public_stories():
    """Return stories placed in a published issue, with that issue joined."""
    return Story.objects.filter(published_issue("placement__issue__")).select_related("placement__issue")


def newest_first(stories):
    """Order stories as timelines show them: newest issue first, then reading order."""
    return stories.order_by(
        "-placement__issue__week_start", "-placement__issue__number", "placement__section", "placement__position"
    )


def public_companies():
    return Company.objects.filter(Exists(_public_links(Story.companies.through.objects.filter(company=OuterRef("pk")))))


def public_themes():
    return Theme.objects.filter(Exists(_public_links(Story.themes.through.objects.filter(theme=OuterRef("pk")))))


def public_tags():
    links = _story_tags().filter(tag=OuterRef("pk"))
    return Tag.objects.filter(Exists(_public_links(links, story_field="object_id")))


def _public_links(links, *, story_field="story_id"):
    """Return those of ``links`` (rows tying stories to a company, theme or tag) naming a public story.

    The condition goes from the link table straight to the story's placement: through
    the story table, PostgreSQL hashed every placement and issue for each lookup (20 ms
    instead of 2 at 52,000 stories).
    """
    published = Placement.objects.filter(published_issue("issue__"), story=OuterRef(story_field))
    return links.filter(Exists(published))


def coverage(topic):
    """Return how many public stories name ``topic`` (a company, theme or tag), and since when.

    ``since`` is the first day of the earliest of those stories' issues.

    Counted on the placements and the link table alone: joining the story table as well
    doubled the time for a company named in 14,000 stories.
    """
    placements = Placement.objects.filter(published_issue("issue__"), story__in=_ids_of_stories_naming(topic))
    return placements.aggregate(count=Count("pk"), since=Min("issue__week_start"))


def _ids_of_stories_naming(topic):
    if isinstance(topic, Company):
        return Story.companies.through.objects.filter(company=topic).values("story_id")
    if isinstance(topic, Theme):
        return Story.themes.through.objects.filter(theme=topic).values("story_id")
    return _story_tags().filter(tag=topic).values("object_id")


def _story_tags():
    return Story.tags.through.objects.filter(content_type=ContentType.objects.get_for_model(Story))


def newest(stories, *, offset=0, limit, prefetch=("companies",)):
    """Return ``limit`` of ``stories`` newest first from ``offset``, with their issue and ``prefetch``.

    Only ids are sorted: PostgreSQL walks the issues newest first on their reading-order
    index and stops once the page is full, where sorting whole story rows was most of a
    busy company's page. The page's stories are then loaded by id, without the texts no
    list shows (search vector, the issue's own texts).
    """
    ids = list(newest_first(stories).values_list("pk", flat=True)[offset : offset + limit])
    loaded = (
        Story.objects.select_related("placement__issue")
        .defer("search_vector", *(f"placement__issue__{field}" for field in Issue.LONG_TEXT_FIELDS))
        .prefetch_related(*prefetch)
        .in_bulk(ids)
    )
    return [loaded[pk] for pk in ids]


def company_index(initial=""):
    """Return public companies in index order, each with ``index_letter``.

    ``index_letter`` is the first letter of the name, A to Z, or ``"#"`` for any other
    beginning (digits, accented letters); the index lists ``"#"`` first, then A to Z, each
    from A to Z. ``initial`` keeps one letter.
    """
    letter = Case(When(name__regex=r"^[A-Za-z]", then=Upper(Left("name", 1))), default=Value("#"))
    companies = public_companies().annotate(index_letter=letter)
    if initial:
        companies = companies.filter(index_letter=initial)
    return companies.order_by("index_letter", Lower("name"), "name")


def with_story_counts(companies):
    """Return ``companies`` (a page of them) as a list, each with ``story_count``: its public stories.

    One query for the whole page. (A count in the page's own query is computed for every
    row the database skips on the way to a deep page too.)
    """
    companies = list(companies)
    links = _public_links(Story.companies.through.objects.filter(company__in=companies))
    counts = dict(links.values("company").annotate(count=Count("pk")).values_list("company", "count"))
    for company in companies:
        company.story_count = counts.get(company.pk, 0)
    return companies


def covered_alongside(company, *, window, limit=8):
    """Return the public companies most often named with ``company`` in its ``window`` newest stories.

    Counting a bounded number of stories is the same small amount of work for a company
    covered every week for ten years as for one covered twice.
    """
    latest = newest_first(public_stories().filter(companies=company)).values("pk")[:window]
    return (
        Company.objects.filter(stories__in=latest)
        .exclude(pk=company.pk)
        .annotate(shared_stories=Count("stories", distinct=True))
        .order_by("-shared_stories", "name")[:limit]
    )
