"""Whole-page cache for the reader site, and the purge that keeps it truthful.

A public page is stored once rendered and served from the cache, without touching the
database, until something on it changes. Entries are grouped by path: each path has a
generation token, and every variant of that path (``?page=2``, another host name) is
stored with the token it was rendered under and served only while that token is current.
Purging a path deletes its token, so all its variants miss at once, and a page rendered
from old data while the purge ran carries the old token, so it is never served.

What is stored is bounded: only successful pages, only the variants a reader's link can
name (the query parameters the view declares, with canonical values, on a host named in
``ALLOWED_HOSTS``), and every entry, token or page, expires after ``PAGE_TIMEOUT``. Any
other request is rendered afresh and not stored. When the cache cannot be reached, pages
are served uncached and the failure is logged: the reader site never depends on it.

Responses carry a strong ETag and Last-Modified and answer conditional requests with 304.

``cache_public_page`` marks the views whose pages are cached; ``PageCacheMiddleware``, first
in the middleware stack, answers warm pages before any other middleware runs, and stores a
freshly rendered page as it leaves, with every header the middleware gave it.
"""

import hashlib
import logging
import re
import uuid
from functools import cache as cache_for_process
from functools import partial, wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, parse_http_date_safe, quote_etag
from redis.exceptions import RedisError
from taggit.models import Tag

from companies.models import Company
from digest.models import Issue, PagePurge
from stories.models import Story, Theme

logger = logging.getLogger(__name__)

PAGE_TIMEOUT = 24 * 60 * 60  # of every entry: pages and their paths' generation tokens
# What the cache raises when its server is down, refuses or is too slow (the client's
# socket timeouts are in settings.CACHES): the page is then served uncached.
CACHE_UNAVAILABLE = (RedisError, OSError)
# A stored page keeps the headers the middleware gave it (security headers, the CSP, frame
# options). These settings shape them: pages stored under other values are not served.
_HEADER_SETTINGS = (
    "CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY", "X_FRAME_OPTIONS", "MIDDLEWARE",
)  # fmt: skip


def _generation_key(path):
    # Hashed: a path can be longer than a cache key may be.
    return f"reader:generation:{hashlib.sha256(path.encode()).hexdigest()}"


def _page_key(request, parameters):
    """Return the cache key of the requested variant of a page, or None if it is not to be stored.

    A page shows its own address (the canonical link, JSON-LD and the feeds' links are
    built from the host and the query string), so a variant is stored only when its address
    is already the canonical spelling of one that a link on the site can name: the query
    string is the ``parameters`` the view declares, each once, in their declared order and
    with a canonical value (``page=2``, not ``page=02`` or ``page=2&page=2``), and the host
    is the canonical spelling of one named in ``ALLOWED_HOSTS``. Anything else is rendered
    afresh: made-up values cannot multiply the entries of one page.
    """
    pairs = [(name, request.GET[name]) for name in parameters if name in request.GET]
    query = urlencode(pairs)
    if query != request.META.get("QUERY_STRING", "") or not all(parameters[name](value) for name, value in pairs):
        return None
    host = _canonical_host(request)
    if host is None:
        return None
    variant = f"{request.scheme}://{host}{request.path}?{query}"
    return f"reader:page:{_headers_version()}:{hashlib.sha256(variant.encode()).hexdigest()}"


def _canonical_host(request):
    """Return the request's host if it is the canonical spelling of a host named in ``ALLOWED_HOSTS``.

    Lower case, and a port only when it is the server's own and not the scheme's default
    (as Django spells the host it builds itself). A wildcard entry (``.example.com``,
    ``*``) names no host: the pages of its subdomains are not stored.
    """
    host = request.get_host()
    domain, port = split_domain_port(host)
    named = {name.lower() for name in settings.ALLOWED_HOSTS if name != "*" and not name.startswith(".")}
    if host != host.lower() or domain not in named:
        return None
    default_port = "443" if request.is_secure() else "80"
    if port and (port == default_port or port != str(request.META.get("SERVER_PORT"))):
        return None
    return host


_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def page_number(value):
    """Say whether ``value`` is a page number as the site's own links write it (``?page=2``)."""
    return _PAGE_NUMBER.fullmatch(value) is not None


@cache_for_process
def _headers_version():
    shaping = repr([getattr(settings, name, None) for name in _HEADER_SETTINGS])
    return hashlib.sha256(shaping.encode()).hexdigest()[:12]


def _finish(response):
    """Add the validators and caching headers every public page carries.

    The Content-Security-Policy comes from django-csp's middleware, for every page.
    """
    if not response.has_header("ETag"):
        response["ETag"] = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
    if not response.has_header("Last-Modified"):
        response["Last-Modified"] = http_date()
    # Browsers and proxies may keep a copy but must ask again each time (a cheap 304), so
    # a purge here is never hidden behind a stale copy elsewhere.
    patch_cache_control(response, public=True, no_cache=True)
    return response


_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def _conditional(request, response):
    """Answer 304 (or 412) when the request's validators say the client's copy is current."""
    if not any(header in request.META for header in _CONDITIONAL_HEADERS):
        return response  # the common case, and a warm page's hot path
    last_modified = parse_http_date_safe(response["Last-Modified"])
    return get_conditional_response(request, etag=response["ETag"], last_modified=last_modified, response=response)


def public_page(view):
    """Give a public view's successful responses validators and caching headers, uncached."""

    @wraps(view)
    def public_view(request, *args, **kwargs):
        response = _rendered(view(request, *args, **kwargs))
        if response.status_code != 200 or response.streaming:
            return response
        return _conditional(request, _finish(response))

    return public_view


def _stored_response(request, page_key):
    """Return ``(response, generation)``: the stored page if current, else None, and the path's token."""
    generation_key = _generation_key(request.path)
    # One round trip to the cache for a warm page: the token and the page together.
    found = cache.get_many([generation_key, page_key])
    generation, stored = found.get(generation_key), found.get(page_key)
    if generation is None or stored is None or stored["generation"] != generation:
        return None, generation
    response = HttpResponse(stored["content"])
    for name, value in stored["headers"].items():
        response[name] = value
    return _conditional(request, response), generation


def _claim_generation(path):
    """Return ``(token, claimed)``: the path's generation token, made now if it had none.

    Claimed before the page is rendered, so that a purge during the render orphans the page.
    """
    generation_key, token = _generation_key(path), uuid.uuid4().hex
    if cache.add(generation_key, token, timeout=PAGE_TIMEOUT):
        return token, True
    return cache.get(generation_key), False


def _store(page_key, response, generation):
    """Store a successful page under ``generation``; return whether it was stored."""
    if generation is None or response.status_code != 200 or response.cookies or response.streaming:
        return False
    entry = {"generation": generation, "content": response.content, "headers": dict(response.items())}
    cache.set(page_key, entry, PAGE_TIMEOUT)
    return True


def cache_public_page(view=None, *, query=None):
    """Mark a public view for the page cache: ``PageCacheMiddleware`` serves and stores its pages.

    ``query`` maps each query parameter the view reads, in the order the site's links
    write them, to a function saying which of its values are canonical
    (``query={"page": page_number}``). A request with any other query string is rendered
    afresh and not stored. Use as ``@cache_public_page`` or ``@cache_public_page(query=…)``.
    """
    if view is None:
        return lambda view: cache_public_page(view, query=query)
    cached_view = public_page(view)
    cached_view.page_cache_query = dict(query or {})
    return cached_view


class PageCacheMiddleware:
    """Answer a request for a warm public page at once; store a freshly rendered one.

    First in the middleware stack: a warm page needs no other middleware (no session, CSRF
    token, user or messages, and its security headers and CSP were stored with it), and
    skipping them all is what makes it cheap. On a miss the request goes down the stack;
    the page is stored on its way out, with the headers the rest of the middleware added.
    Only GET and HEAD requests for a ``cache_public_page`` view are looked up, and only
    the variants ``_page_key`` names. A page that is not stored (a 404, say) leaves no
    generation token behind, and a cache that cannot be reached costs one failed call:
    the rest of the request is served uncached.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        parameters = self._cached_query(request) if request.method in ("GET", "HEAD") else None
        page_key = _page_key(request, parameters) if parameters is not None else None
        if page_key is None:
            return self.get_response(request)
        try:
            response, generation = _stored_response(request, page_key)
            if response is not None:
                return response
            claimed = False
            if generation is None:
                generation, claimed = _claim_generation(request.path)
        except CACHE_UNAVAILABLE as error:
            _log_unavailable(request, error)
            return self.get_response(request)
        response = self.get_response(request)
        try:
            if not _store(page_key, response, generation) and claimed:
                # Nothing was stored under it: a token for every made-up path would fill the cache.
                cache.delete(_generation_key(request.path))
        except CACHE_UNAVAILABLE as error:
            _log_unavailable(request, error)
        return response

    @staticmethod
    def _cached_query(request):
        """Return the query parameters this path's page may vary on, or None if it is not cached."""
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return None
        return getattr(match.func, "page_cache_query", None)


def _log_unavailable(request, error):
    logger.warning("Page cache unavailable, %s served uncached: %s: %s", request.path, type(error).__name__, error)


def _rendered(response):
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response


def purge_paths(paths):
    """Drop every cached variant of each path now; raise if the cache cannot be reached.

    Code that changes what readers see calls ``queue_purge`` instead, which retries.
    """
    cache.delete_many([_generation_key(path) for path in paths])


def queue_purge(paths):
    """Record that the cached pages of ``paths`` are stale; purge them once the change commits.

    Call it inside the transaction that makes them stale: the purge is a row committed with
    its cause, tried right after the commit and by the beat every minute until it succeeds
    (``retry_pending_purges``). A cache outage is logged, never raised into the caller.
    """
    paths = sorted(set(paths))
    if not paths:
        return None
    purge = PagePurge.objects.create(paths=paths)
    transaction.on_commit(partial(_attempt_purge, purge.pk), robust=True)
    return purge


def queue_issue_purge(issue, *, previous_paths=()):
    """Queue the purge of every cached page that a change to ``issue`` affects.

    Call it when an issue is published, corrected, withdrawn or unpublished. A correction
    can also take a company, theme or tag off a story: pass ``issue_page_paths(issue)`` taken
    before the change as ``previous_paths`` so the pages that no longer show the story are
    purged too.
    """
    return queue_purge(issue_page_paths(issue) | set(previous_paths))


def purge_or_queue(paths):
    """Purge ``paths`` now; if the cache is down, record the purge for the beat to retry.

    For work whose change is committed already (a publication run's step): there is no
    commit to wait for, and a cache outage must not fail the work.
    """
    try:
        purge_paths(paths)
    except Exception as error:  # any cache failure: recorded, retried by the beat
        logger.warning("Could not purge %s cached paths now; the beat will retry: %s", len(paths), error)
        PagePurge.objects.create(
            paths=sorted(set(paths)),
            attempts=1,
            last_tried_at=timezone.now(),
            last_error=f"{type(error).__name__}: {error}",
        )


def retry_pending_purges():
    """Try every purge still pending (the beat's minute); return how many are still pending."""
    for purge_id in PagePurge.objects.values_list("pk", flat=True):
        _attempt_purge(purge_id)
    return PagePurge.objects.count()


def _attempt_purge(purge_id):
    with transaction.atomic():
        # Another process trying the same purge may have it: that one will do.
        purge = PagePurge.objects.select_for_update(skip_locked=True).filter(pk=purge_id).first()
        if purge is None:
            return
        try:
            purge_paths(purge.paths)
        except Exception as error:  # any cache failure: the row stays for the next try
            purge.attempts += 1
            purge.last_tried_at = timezone.now()
            purge.last_error = f"{type(error).__name__}: {error}"
            purge.save(update_fields=["attempts", "last_tried_at", "last_error"])
            logger.warning("Could not purge %s cached paths (attempt %s): %s", len(purge.paths), purge.attempts, error)
        else:
            purge.delete()


def issue_page_paths(issue):
    """Return the path of every public page that shows ``issue`` or depends on it.

    That is the issue's page, the home page, the archive, the site feeds, the sitemap,
    the company index, the issues before and after it (their previous/next links), and
    the pages and feeds of every company, theme and tag of its stories, with the parents
    and subsidiaries of those companies (their pages link to each other when public).
    """
    paths = {
        issue.get_absolute_url(),
        reverse("home"),
        reverse("issue_archive"),
        reverse("issue_feed"),
        reverse("issue_feed_atom"),
        reverse("sitemap"),
        reverse("company_list"),
    }
    published = Issue.objects.published()
    for neighbour in (published.before(issue).first(), published.after(issue).first()):
        if neighbour is not None:
            paths.add(neighbour.get_absolute_url())
    in_issue = Story.objects.filter(placement__issue=issue)
    company_ids = Company.objects.filter(Exists(in_issue.filter(companies=OuterRef("pk")))).values("pk")
    companies = Company.objects.filter(
        Q(pk__in=company_ids) | Q(parent__in=company_ids) | Q(subsidiaries__in=company_ids)
    )
    for company in companies.distinct():
        paths.add(company.get_absolute_url())
        paths.add(reverse("company_feed", args=[company.slug]))
        paths.add(reverse("company_feed_atom", args=[company.slug]))
    for theme in Theme.objects.filter(Exists(in_issue.filter(themes=OuterRef("pk")))):
        paths.add(theme.get_absolute_url())
        paths.add(reverse("theme_feed", args=[theme.slug]))
        paths.add(reverse("theme_feed_atom", args=[theme.slug]))
    for tag in Tag.objects.filter(Exists(in_issue.filter(tags=OuterRef("pk")))).exclude(slug=""):
        paths.add(reverse("tag_detail", args=[tag.slug]))
    return paths


def purge_issue_pages(issue, *, previous_paths=()):
    """Purge now every cached page that a change to ``issue`` affects; raise if the cache is down.

    What ``queue_issue_purge`` records and retries, done at once.
    """
    purge_paths(issue_page_paths(issue) | set(previous_paths))
