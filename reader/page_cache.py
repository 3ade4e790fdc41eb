"""Whole-page cache for the reader site, filed by the keys of what each page shows.

A public page is stored once rendered and served from the cache, without touching the
database, until something on it changes. Views name what a page shows as it renders
(``add_keys(request, "issue-12", "issues")``, the names are ``reader.keys``'); the keys go
out in the ``xkey`` header, for a front cache, and are stored with the page. A change
purges keys (``purge``), never paths: every stored variant of every page that carries one
of them is stale from then on.

How a purge reaches a page, whatever the cache evicts and however requests interleave:

- each key has a token, ``reader:key:<key>``, a random value that every purge of the key
  replaces; the site-wide marker ``reader:purges`` is replaced by every purge of any key;
- a page is stored with the values of its keys' tokens and of the marker, read together
  after it rendered, and only if the marker is still the one read before it rendered (else
  a purge ran meanwhile and the page may show what it dropped: the next request stores it);
- a warm hit is one round trip, the page and the marker together: if the marker is the
  one the page was stored with, nothing was purged since, and the page is served. Else the
  page's tokens are read: it is served (and stamped with the new marker) only if every
  token still has the value it was stored with;
- a token missing when a page is stored (never made, expired or evicted) is made then with
  a new value, which no page stored before has: a lost token never lets an old page pass;
- a missing marker is made anew: every page stored with the old one checks its tokens.

No clock is compared, so the machines that render and purge need not agree on the time.

What is stored is bounded: only successful pages, only the variants a reader's link can
name (the query parameters the view declares, with canonical values, on a host named in
``ALLOWED_HOSTS``), and every entry expires. Any other request is rendered afresh and not
stored. When the cache cannot be reached, pages are served uncached and the failure is
logged: the reader site never depends on it.

Responses carry a strong ETag and Last-Modified and answer conditional requests with 304.
Only the pages stored here as current may be kept by a front cache (``reader.front_cache``):
what the page cache cannot vouch for, Varnish never keeps.

``cache_public_page`` marks the views whose pages are cached; ``PageCacheMiddleware``, first
in the middleware stack, answers warm pages before any other middleware runs, and stores a
freshly rendered page as it leaves, with every header the middleware gave it.
"""

import hashlib
import logging
import re
import uuid
from functools import cache as cache_for_process
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, parse_http_date_safe, quote_etag
from redis.exceptions import RedisError

from .front_cache import shared_cache_control

logger = logging.getLogger(__name__)

PAGE_TIMEOUT = 24 * 60 * 60  # of a stored page
KEY_TIMEOUT = 2 * PAGE_TIMEOUT  # of the tokens and the marker: longer, as a page stamped anew lives on
KEYS_HEADER = "xkey"  # Varnish's xkey module reads it; a CDN would take Surrogate-Key
PURGES_MARKER = "reader:purges"
# What the cache raises when its server is down, refuses or is too slow (the client's
# socket timeouts are in settings.CACHES): the page is then served uncached.
CACHE_UNAVAILABLE = (RedisError, OSError)
# A stored page keeps the headers the middleware gave it (security headers, the CSP, frame
# options). These settings shape them: pages stored under other values are not served.
_HEADER_SETTINGS = (
    "CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY", "X_FRAME_OPTIONS", "MIDDLEWARE",
    "FRONT_CACHE", "FRONT_CACHE_MAX_AGE",  # the Cache-Control a front cache reads (reader.front_cache)
)  # fmt: skip


def add_keys(request, *keys):
    """File the response to ``request`` under ``keys`` too: a purge of any of them drops it.

    Views call it as they render, with the keys of what the page shows (``reader.keys``).
    """
    request.__dict__.setdefault("_page_cache_keys", set()).update(keys)


def keys_of(request):
    """Return the keys the response to ``request`` is filed under, sorted."""
    return sorted(request.__dict__.get("_page_cache_keys", ()))


def _token(key):
    # Keys are made of ids (reader.keys), so they are short and safe in a cache key.
    return f"reader:key:{key}"


def purge(keys):
    """Make every stored page filed under any of ``keys`` stale now; raise if the cache is down.

    One round trip. Code that changes what readers see does not call it: it records a purge
    (``reader.purges``), which is carried out after the change commits, and retried.
    """
    purge_id = uuid.uuid4().hex
    tokens = {_token(key): purge_id for key in keys}
    if tokens:
        # In one MULTI/EXEC on Redis: no reader sees the tokens changed and the marker not.
        cache.set_many({**tokens, PURGES_MARKER: purge_id}, KEY_TIMEOUT)


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
    # a purge here is never hidden behind a stale copy elsewhere. A front cache the site
    # purges may keep the pages the page cache stores (_store).
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
    """Return ``(response, marker)``: the stored page if it is current, else None, and the purge marker."""
    # One round trip to the cache for a warm page: the page and the marker together.
    found = cache.get_many([page_key, PURGES_MARKER])
    stored, marker = found.get(page_key), found.get(PURGES_MARKER)
    if stored is None:
        return None, marker
    if marker is None or stored["marker"] != marker:
        # Something was purged since it was stored (or the marker was lost): was it on this page?
        if cache.get_many(list(stored["tokens"])) != stored["tokens"]:
            return None, marker
        if marker is not None:
            # The marker was read before the tokens: a purge since then changed it again.
            cache.set(page_key, {**stored, "marker": marker}, PAGE_TIMEOUT)
    response = HttpResponse(stored["content"])
    for name, value in stored["headers"].items():
        response[name] = value
    return _conditional(request, response), marker


def _current_marker(marker):
    """Return the purge marker, made now if there is none (first use, expired or evicted)."""
    if marker is not None:
        return marker
    cache.add(PURGES_MARKER, uuid.uuid4().hex, KEY_TIMEOUT)
    return cache.get(PURGES_MARKER)


def _store(page_key, request, response, *, marker):
    """Store a successful page with the tokens of its keys; return whether it was stored.

    A page stored is current: it goes out with the front cache's ``s-maxage`` too, if the
    site has one (``reader.front_cache``). A page not stored does not.

    ``marker`` is the purge marker as it was before the page rendered: if it changed, a purge
    ran during the render and the page may show what it dropped, so it is not stored.
    """
    if marker is None or response.status_code != 200 or response.cookies or response.streaming:
        return False
    keys = [_token(key) for key in keys_of(request)]
    found = cache.get_many([PURGES_MARKER, *keys])  # one read: the tokens as of this marker
    if found.pop(PURGES_MARKER, None) != marker:
        return False
    for token in keys:
        if token not in found:
            # Never made, expired or evicted: a new value, which no page stored before has.
            made = uuid.uuid4().hex
            if not cache.add(token, made, KEY_TIMEOUT):
                return False  # made or purged meanwhile: leave it to the next request
            found[token] = made
    # Current as of the tokens just read: the front cache may keep it too, until a purge.
    shared_cache_control(response)
    entry = {"content": response.content, "headers": dict(response.items()), "tokens": found, "marker": marker}
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
    token behind, and a cache that cannot be reached costs one failed call: the rest of
    the request is served uncached. Every response, cached or not (the PDF edition), gets
    the ``xkey`` header of the keys its view added.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        parameters = self._cached_query(request) if request.method in ("GET", "HEAD") else None
        page_key = _page_key(request, parameters) if parameters is not None else None
        if page_key is None:
            return self._render(request)
        try:
            response, marker = _stored_response(request, page_key)
            if response is not None:
                return response
            marker = _current_marker(marker)
        except CACHE_UNAVAILABLE as error:
            _log_unavailable(request, error)
            return self._render(request)
        response = self._render(request)
        try:
            _store(page_key, request, response, marker=marker)
        except CACHE_UNAVAILABLE as error:
            _log_unavailable(request, error)
        return response

    def _render(self, request):
        """Pass the request down the stack; name the keys of what the response shows in its header."""
        response = self.get_response(request)
        keys = keys_of(request)
        if keys:
            response[KEYS_HEADER] = " ".join(keys)
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
