from django.urls import path, register_converter
from django.views.decorators.http import require_safe

from . import feeds, pdf_views, views
from .page_cache import cache_public_page
from .sitemaps import sitemap_view


class TagSlugConverter:
    """Any path segment but control characters: taggit's slugs may be Unicode ("日本"), never NUL.

    PostgreSQL refuses a NUL in a query, so ``/tags/%00/`` would otherwise be a 500.
    """

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(TagSlugConverter, "tag_slug")


def cached_reader_view(view):
    """Serve a feed or the sitemap like the reader pages: from the page cache, to GET and HEAD only."""
    return require_safe(cache_public_page(view))


urlpatterns = [
    path("", views.home, name="home"),
    path("issues/", views.issue_archive, name="issue_archive"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue_detail"),
    path("issues/<slug:slug>.pdf", pdf_views.issue_pdf, name="issue_pdf"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/<slug:slug>/", views.company_detail, name="company_detail"),
    path("companies/<slug:slug>/feed/", cached_reader_view(feeds.CompanyFeed()), name="company_feed"),
    path("companies/<slug:slug>/feed/atom/", cached_reader_view(feeds.AtomCompanyFeed()), name="company_feed_atom"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme_detail"),
    path("themes/<slug:slug>/feed/", cached_reader_view(feeds.ThemeFeed()), name="theme_feed"),
    path("themes/<slug:slug>/feed/atom/", cached_reader_view(feeds.AtomThemeFeed()), name="theme_feed_atom"),
    path("tags/<tag_slug:slug>/", views.tag_detail, name="tag_detail"),
    path("search/", views.search, name="search"),
    path("feed/", cached_reader_view(feeds.IssueFeed()), name="issue_feed"),
    path("feed/atom/", cached_reader_view(feeds.AtomIssueFeed()), name="issue_feed_atom"),
    path("sitemap.xml", cached_reader_view(sitemap_view), name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("preview/<str:token>/", views.issue_share_preview, name="issue_share_preview"),
]
