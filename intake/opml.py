"""OPML import: many feeds at once, each matched to a company by name or creating it.

An outline with an ``xmlUrl`` is a feed. Its company is the enclosing outline's text when
feeds are grouped by company, otherwise the feed's own text, matched ignoring case, first
as written and then without a trailing "Engineering", "Tech Blog" or "Blog" ("Netflix
TechBlog" is Netflix). A company not found is created. The import is all or nothing; a
feed already known is counted and left as it is.
"""

import re
from dataclasses import dataclass, field

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.db import transaction
from django.utils.text import slugify

import outbound
from companies.models import Company

from .models import LINK_MAX_LENGTH, Feed

MAX_OPML_BYTES = 1024 * 1024
MAX_FEEDS = 2000
_BLOG_SUFFIX = re.compile(r"[\s\-–—:|]*(engineering|tech\s*blog|techblog|engineering\s+blog|blog|tech)\s*$", re.I)
NAME_MAX_LENGTH = Company._meta.get_field("name").max_length
MAX_DEPTH = 20  # levels of folders


class OPMLError(ValueError):
    pass


@dataclass
class ImportReport:
    feeds_added: list = field(default_factory=list)
    feeds_known: int = 0
    companies_created: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (what, why)

    def summary(self):
        parts = [f"{len(self.feeds_added)} feeds added", f"{self.feeds_known} already known"]
        if self.companies_created:
            parts.append(f"{len(self.companies_created)} companies created ({', '.join(self.companies_created[:10])}…)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts) + "."


def read_outlines(data):
    """The feeds of an OPML document as (company name, feed URL, feed title); raise OPMLError if it is not one."""
    if len(data) > MAX_OPML_BYTES:
        raise OPMLError(f"The file is larger than {MAX_OPML_BYTES // 1024} KB.")
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise OPMLError(f"Not an OPML file: {error}"[:300]) from error
    if root.tag != "opml" or root.find("body") is None:
        raise OPMLError("Not an OPML file: no <opml> with a <body>.")
    found = []

    def walk(element, group, depth=0):
        if depth > MAX_DEPTH:  # folders in folders: no reader nests this deep, and Python's stack is finite
            raise OPMLError(f"The file nests its outlines more than {MAX_DEPTH} deep.")
        for outline in element.findall("outline"):
            text = (outline.get("text") or outline.get("title") or "").strip()
            if outline.get("xmlUrl"):
                found.append((group or text, outline.get("xmlUrl").strip(), (outline.get("title") or text).strip()))
                if len(found) > MAX_FEEDS:
                    raise OPMLError(f"The file lists more than {MAX_FEEDS} feeds; split it.")
            else:
                walk(outline, text or group, depth + 1)

    walk(root.find("body"), "")
    return found


def import_opml(data):
    """Add the feeds of an OPML document; return an ImportReport. Nothing is written when it raises."""
    report = ImportReport()
    outlines = read_outlines(data)
    with transaction.atomic():
        for company_name, url, title in outlines:
            try:
                outbound.check_url(url)
            except outbound.OutboundRefused as error:
                report.skipped.append((url[:200], str(error)))
                continue
            if len(url) > LINK_MAX_LENGTH:
                report.skipped.append((url[:200], f"longer than {LINK_MAX_LENGTH} characters"))
                continue
            if Feed.objects.filter(url=url).exists():
                report.feeds_known += 1
                continue
            company = _company_named(company_name or title or url, report)
            feed = Feed(company=company, url=url, title=title[:200])
            feed.spread_first_fetch()
            feed.save()
            report.feeds_added.append(feed)
    return report


def _company_named(name, report):
    name = " ".join(name.split())[:NAME_MAX_LENGTH]
    short = _BLOG_SUFFIX.sub("", name).strip() or name
    for candidate in dict.fromkeys([name, short]):
        company = Company.objects.filter(name__iexact=candidate).first()
        if company:
            return company
    base = slugify(short)[:110] or "company"
    slug, number = base, 2
    while Company.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    company = Company.objects.create(name=short, slug=slug)
    report.companies_created.append(short)
    return company
