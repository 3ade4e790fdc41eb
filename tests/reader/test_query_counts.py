"""Every public page and every admin changelist runs as many queries on a small archive as on
a larger one: no page's query count grows with the data (issue 7).

Both archives come from ``generate_bench_data``, the benchmark's own data, at two scales.
"""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from taggit.models import Tag

from companies.models import Company
from digest.models import Issue
from stories.models import Theme

pytestmark = pytest.mark.django_db

SMALL_SCALE, LARGE_SCALE = "0.02", "0.06"


def load_archive(scale):
    call_command("generate_bench_data", "--scale", scale, "--reset", stdout=None, stderr=None)


def most_covered(queryset, relation):
    """Return the object of ``queryset`` with the most stories in published issues."""
    published = Q(**{f"{relation}__placement__issue__in": Issue.objects.published()})
    return queryset.annotate(n=Count(relation, filter=published)).order_by("-n", "pk").first()


def public_urls():
    """One URL per public page type, on the archive's largest instance of each."""
    issue = Issue.objects.published().annotate(n=Count("placements")).order_by("-n", "number").first()
    company = most_covered(Company.objects.all(), "stories")
    theme = most_covered(Theme.objects.all(), "stories")
    tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n", "pk").first()
    return {
        "home": "/",
        "issue": issue.get_absolute_url(),
        "archive": "/issues/",
        "companies": "/companies/",
        "company": company.get_absolute_url(),
        "theme": theme.get_absolute_url(),
        "tag": f"/tags/{tag.slug}/",
        "search, one word": "/search/?q=replica",
        "search, two words": "/search/?q=cache+failover",
        "feed": "/feed/",
        "atom feed": "/feed/atom/",
        "company feed": f"/companies/{company.slug}/feed/",
        "theme feed": f"/themes/{theme.slug}/feed/",
        "sitemap": "/sitemap.xml",
    }


def changelist_urls():
    return {
        f"{model._meta.app_label}.{model._meta.model_name}": reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        for model in admin.site._registry
    }


def query_counts(client, urls, *, uncached):
    counts = {}
    for name, url in urls.items():
        if uncached:
            # A query string the page cache does not know: the page is rendered afresh.
            url += ("&" if "?" in url else "?") + "uncached=1"
        client.get(url)  # fills per-process caches (content types, sites) first
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[name] = len(queries)
    return counts


def test_public_pages_query_counts_do_not_grow_with_the_archive(client):
    load_archive(SMALL_SCALE)
    small = query_counts(client, public_urls(), uncached=True)
    load_archive(LARGE_SCALE)
    assert Issue.objects.published().count() > 20, "the larger archive spans more than one archive page"
    large = query_counts(client, public_urls(), uncached=True)
    assert large == small


def test_admin_changelists_query_counts_do_not_grow_with_the_archive(admin_client):
    load_archive(SMALL_SCALE)
    small = query_counts(admin_client, changelist_urls(), uncached=False)
    load_archive(LARGE_SCALE)
    large = query_counts(admin_client, changelist_urls(), uncached=False)
    assert large == small


def test_story_changelist_filtered_by_company_lists_no_other_company(admin_client):
    load_archive(SMALL_SCALE)
    company, other = Company.objects.order_by("pk")[:2]
    response = admin_client.get(reverse("admin:stories_story_changelist") + f"?company={company.pk}")
    assert response.status_code == 200
    shown = {story.pk for story in response.context["cl"].result_list}
    assert shown and shown <= set(company.stories.values_list("pk", flat=True))
    # The filter shows the chosen company, not a link for every company in the archive.
    assert company.name in response.content.decode()
    assert f"?company={other.pk}" not in response.content.decode()
