"""The front cache before the web nodes (Varnish with xkey, ``deploy/varnish/default.vcl``).

Two things, both chosen by the ``FRONT_CACHE`` setting:

- **What it may keep.** A shared cache may keep a page only if the site can purge it. With
  ``FRONT_CACHE = "none"`` (the default, ``make dev``) every page goes out
  ``public, no-cache``, as before: nothing between the site and the browser keeps it. With a
  front cache, a page that the page cache holds as current goes out with ``s-maxage`` (and,
  like every public response, its keys in the ``xkey`` header): Varnish keeps it until a
  purge of one of its keys, or ``FRONT_CACHE_MAX_AGE``. A page the page cache did not store
  (a variant no link names, or one rendered while a purge ran) stays ``no-cache``: Varnish
  never keeps what the page cache could not vouch for.
- **Its purges.** ``purger().purge(keys)`` drops every page filed under the keys, or raises.
  ``reader.purges`` calls it from the durable ``PagePurge`` rows, after the page cache
  (Varnish refetches a purged page through it), so a Varnish that does not answer keeps the
  row, which is retried by the beat and listed in the admin until every Varnish has it.

Purge addresses are the operator's (settings), never a user's: no SSRF rules apply.
"""

import http.client
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings

PURGE_HEADER = "xkey-purge"  # the header default.vcl reads the keys to purge from
KEYS_PER_PURGE = 100  # keys are ~12 bytes: a request stays far below Varnish's 8 KB header limit


def shared_cache_control(response, *, max_age=0):
    """Let the front cache keep ``response`` until its keys are purged; browsers keep ``max_age``.

    A no-op without a front cache. Varnish drops ``s-maxage`` before the response leaves it,
    so no cache further on (which nothing purges) keeps the page.
    """
    if settings.FRONT_CACHE == "none":
        return response
    revalidate = ", must-revalidate" if max_age == 0 else ""
    response["Cache-Control"] = f"public, max-age={max_age}{revalidate}, s-maxage={settings.FRONT_CACHE_MAX_AGE}"
    return response


class FrontCachePurgeFailed(Exception):
    """A front cache did not confirm a purge: the pages it keeps may be stale until it does."""


class NoFrontCache:
    """No front cache: nothing to purge beyond the page cache."""

    def purge(self, keys):
        pass


class VarnishPurger:
    """Purge by key on each Varnish: ``PURGE /`` with the keys in ``xkey-purge`` (``default.vcl``).

    Every Varnish is tried, even after one fails, so one down does not delay the others; the
    purge raises if any did not answer 200, and is tried again on all (a purge is idempotent).
    """

    def __init__(self, urls, *, timeout):
        self.urls, self.timeout = list(urls), timeout

    def purge(self, keys):
        keys = sorted(set(keys))
        failures = []
        for url in self.urls:
            try:
                for start in range(0, len(keys), KEYS_PER_PURGE):
                    self._purge_on(url, keys[start : start + KEYS_PER_PURGE])
            except (OSError, http.client.HTTPException, FrontCachePurgeFailed) as error:
                failures.append(f"{url}: {type(error).__name__}: {error}")
        if failures:
            raise FrontCachePurgeFailed("; ".join(failures))

    def _purge_on(self, url, keys):
        address = urlsplit(url)
        connection_class = http.client.HTTPSConnection if address.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(address.hostname, address.port, timeout=self.timeout)
        try:
            connection.request("PURGE", "/", headers={PURGE_HEADER: " ".join(keys)})
            response = connection.getresponse()
            answer = response.read(1024).decode("latin-1").strip()
            if response.status != 200:
                raise FrontCachePurgeFailed(f"answered {response.status} {response.reason} {answer[:200]}".strip())
        finally:
            connection.close()


def purger():
    """Return the purger the settings select (``FRONT_CACHE``)."""
    return _purger(settings.FRONT_CACHE, tuple(settings.FRONT_CACHE_PURGE_URLS), settings.FRONT_CACHE_PURGE_TIMEOUT)


@cache
def _purger(kind, urls, timeout):
    if kind == "varnish":
        return VarnishPurger(urls, timeout=timeout)
    return NoFrontCache()
