"""sitemap.xml: published issues and the public company, theme and tag pages, nothing else."""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.urls import reverse

from digest.models import Issue
from digest.public import public_companies, public_tags, public_themes

from . import keys
from .page_cache import add_keys


class IssueSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Issue.objects.published().order_by("-week_start", "-number")

    def lastmod(self, issue):
        return issue.updated_at


class PageSitemap(Sitemap):
    """The site's fixed pages."""

    changefreq = "weekly"

    def items(self):
        return ["home", "issue_archive", "company_list"]

    def location(self, name):
        return reverse(name)


class CompanySitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return public_companies().order_by("name")


class ThemeSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return public_themes().order_by("name")


class TagSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return public_tags().exclude(slug="").order_by("name")

    def location(self, tag):
        return reverse("tag_detail", args=[tag.slug])


SITEMAPS = {
    "pages": PageSitemap,
    "issues": IssueSitemap,
    "companies": CompanySitemap,
    "themes": ThemeSitemap,
    "tags": TagSitemap,
}


def sitemap_view(request, **kwargs):
    """Serve sitemap.xml, filed under the lists it lists."""
    add_keys(request, *keys.LISTS)
    return sitemap(request, sitemaps=SITEMAPS, **kwargs)
