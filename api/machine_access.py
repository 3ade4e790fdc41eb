"""What every machine-readable response shares: CORS open to reading, and a rate limit per address.

``/api/``, the JSON Feeds and the OpenAPI document are public and read-only, so any web
page may read them (``Access-Control-Allow-Origin: *``, no credentials) and preflights
for GET and HEAD with conditional headers are answered here. Anonymous clients are limited
per address and minute (``API_RATE_LIMIT_PER_MINUTE``): over it, a 429 with
``Retry-After`` until the minute ends. The limit is counted before the page cache answers,
so warm responses count too; when the cache cannot be reached the request is let through,
as the page cache does, and a warning is logged.
"""

import json
import logging
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpResponse

from accounts.records import client_address
from reader.page_cache import CACHE_UNAVAILABLE

logger = logging.getLogger(__name__)

MACHINE_PATHS = ("/api/",)
MACHINE_SUFFIXES = ("/feed.json",)
EXPOSED_HEADERS = "ETag, Last-Modified, Retry-After, xkey"


def is_machine_path(path):
    return path.startswith(MACHINE_PATHS) or path.endswith(MACHINE_SUFFIXES)


def _too_many(window_end):
    retry_after = max(1, int(window_end - time.time()) + 1)
    body = {"detail": f"Too many requests from your address: try again in {retry_after} seconds."}
    response = HttpResponse(json.dumps(body), status=429, content_type="application/json")
    response["Retry-After"] = str(retry_after)
    return response


def _over_limit(request):
    """Count this request in its address's minute; return the window's end if it is over the limit."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    if not limit:
        return None
    minute = int(time.time() // 60)
    key = f"api:rate:{client_address(request)}:{minute}"
    try:
        count = _count(key)
    except (*CACHE_UNAVAILABLE, ValueError) as error:  # ValueError: the key expired between the two calls
        logger.warning("API rate limit not counted for %s: %s: %s", request.path, type(error).__name__, error)
        return None
    return (minute + 1) * 60 if count > limit else None


def _count(key):
    """Add one to ``key`` (kept a minute and a half) and return its count: one round trip on Redis."""
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy
    if isinstance(backend, RedisCache):
        redis_key = backend.make_and_validate_key(key)
        pipeline = backend._cache.get_client(redis_key, write=True).pipeline()
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, 90)
        return pipeline.execute()[0]
    cache.add(key, 0, 90)
    return cache.incr(key)


def _preflight():
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
    response["Access-Control-Max-Age"] = "86400"
    return response


class MachineAccessMiddleware:
    """Rate-limit and open to cross-origin reading the machine-readable paths; leave the rest alone.

    Placed before the page cache, so its limit counts warm responses too; the CORS header is
    added on the way out, also to what the page cache answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_machine_path(request.path_info):
            return self.get_response(request)
        if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
            response = _preflight()
        elif (window_end := _over_limit(request)) is not None:
            response = _too_many(window_end)
        else:
            response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if (
            request.META.get("REQUEST_METHOD") == "HEAD" and not response.streaming
        ):  # as sent (api.urls answers it as GET)
            response.content = b""  # its headers (Content-Length, ETag) stay those of the GET
        return response
