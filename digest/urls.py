from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import feeds, pdf_views, views
from .page_cache import cache_public_page
from .sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/", views.issue_archive, name="issue_archive"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue_detail"),
    path("issues/<slug:slug>.pdf", pdf_views.issue_pdf, name="issue_pdf"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/<slug:slug>/", views.company_detail, name="company_detail"),
    path("companies/<slug:slug>/feed/", cache_public_page(feeds.CompanyFeed()), name="company_feed"),
    path("companies/<slug:slug>/feed/atom/", cache_public_page(feeds.AtomCompanyFeed()), name="company_feed_atom"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme_detail"),
    path("themes/<slug:slug>/feed/", cache_public_page(feeds.ThemeFeed()), name="theme_feed"),
    path("themes/<slug:slug>/feed/atom/", cache_public_page(feeds.AtomThemeFeed()), name="theme_feed_atom"),
    # Tag slugs are made by django-taggit and may be Unicode ("日本"), so any path segment.
    path("tags/<str:slug>/", views.tag_detail, name="tag_detail"),
    path("search/", views.search, name="search"),
    path("feed/", cache_public_page(feeds.IssueFeed()), name="issue_feed"),
    path("feed/atom/", cache_public_page(feeds.AtomIssueFeed()), name="issue_feed_atom"),
    path("sitemap.xml", cache_public_page(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("preview/<str:token>/", views.issue_share_preview, name="issue_share_preview"),
    path("admin/", admin.site.urls),
]
