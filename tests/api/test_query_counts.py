"""Every API response and JSON Feed runs as many queries on a small archive as on a larger one.

The archives are the benchmark's own data at two scales, as for the reader's pages
(``tests/reader/test_query_counts.py``).
"""

import pytest
from django.db.models import Count
from taggit.models import Tag

from companies.models import Company
from digest.models import Issue
from stories.models import Theme
from tests.reader.test_query_counts import LARGE_SCALE, SMALL_SCALE, load_archive, most_covered, query_counts

pytestmark = pytest.mark.django_db


def api_urls(client):
    """One URL per API response type, on the archive's largest instance of each."""
    issue = Issue.objects.published().annotate(n=Count("placements")).order_by("-n", "number").first()
    company = most_covered(Company.objects.all(), "stories")
    theme = most_covered(Theme.objects.all(), "stories")
    tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n", "pk").first()
    second_page = client.get("/api/v1/stories/").json()["next"].removeprefix("http://testserver")
    return {
        "issues": "/api/v1/issues/",
        "issue": f"/api/v1/issues/{issue.slug}/",
        "stories": "/api/v1/stories/",
        "stories, second page": second_page,
        "stories of a company": f"/api/v1/stories/?company={company.slug}",
        "stories of a tag": f"/api/v1/stories/?tag={tag.slug}",
        "companies": "/api/v1/companies/",
        "company": f"/api/v1/companies/{company.slug}/",
        "themes": "/api/v1/themes/",
        "theme": f"/api/v1/themes/{theme.slug}/",
        "tag": f"/api/v1/tags/{tag.slug}/",
        "search": "/api/v1/search/?q=replica",
        "json feed": "/feed.json",
        "company json feed": f"/companies/{company.slug}/feed.json",
    }


def test_api_query_counts_do_not_grow_with_the_archive(client):
    load_archive(SMALL_SCALE)
    small = query_counts(client, api_urls(client), uncached=True)
    load_archive(LARGE_SCALE)
    large = query_counts(client, api_urls(client), uncached=True)
    assert large == small
    assert max(large.values()) <= 8, large
