"""The API's addresses, ``/api/v1/``, with the reader's page cache and validators on each view.

django-ninja builds one Django view per path; the page cache (``reader.page_cache``) is
applied to those views here, with the query parameters each may vary on, in the order the
API's own ``next`` links write them. Search is not stored (made-up words would fill the
cache), but answers conditional requests like every view.
"""

import re
from functools import wraps

from django.urls import include, path

from reader.page_cache import cache_public_page, public_page

from . import cursors, docs, json_feed
from .views import api

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SLUG = re.compile(r"[^/\x00-\x1f\x7f]{1,300}")


def _slug(value):
    return _SLUG.fullmatch(value) is not None


def _date(value):
    return _DATE.fullmatch(value) is not None


_PAGED = {"cursor": cursors.is_canonical}
CACHED_QUERIES = {
    "issue_list": _PAGED,
    "issue_detail": {},
    "story_list": {"company": _slug, "theme": _slug, "tag": _slug, "since": _date, "until": _date, **_PAGED},
    "company_list": _PAGED,
    "company_detail": {},
    "theme_list": _PAGED,
    "theme_detail": {},
    "tag_list": _PAGED,
    "tag_detail": {},
}


def _answering_head(view):
    """Answer HEAD as GET (the server sends no body for it): django-ninja routes each operation by method."""

    @wraps(view)
    def view_answering_head(request, *args, **kwargs):
        if request.method == "HEAD":
            request.method = "GET"
        return view(request, *args, **kwargs)

    return view_answering_head


def _with_validators(patterns):
    for pattern in patterns:
        query = CACHED_QUERIES.get(pattern.name)
        view = _answering_head(pattern.callback)
        if query is not None:
            pattern.callback = cache_public_page(view, query=query)
        else:
            pattern.callback = public_page(view)
    return patterns


api_patterns, _, namespace = api.urls

urlpatterns = [
    path("api/v1/", include((_with_validators(api_patterns), namespace), namespace=namespace)),
    path("api/v1/docs/", docs.api_docs, name="api_docs"),
    path("feed.json", json_feed.issue_feed, name="issue_json_feed"),
    path("companies/<slug:slug>/feed.json", json_feed.company_feed, name="company_json_feed"),
    path("themes/<slug:slug>/feed.json", json_feed.theme_feed, name="theme_json_feed"),
]
