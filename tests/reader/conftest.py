"""Fixtures of the reader's cache tests: the real Redis cache, and a cache server of a test's own."""

import signal

import pytest

from tests.services import missing


@pytest.fixture
def cache_redis():
    """A client on the cache's own Redis database, to count and inspect what the page cache stores."""

    import redis
    from django.conf import settings

    if not settings.CACHE_REDIS_URL:
        missing("This test needs the Redis cache: set REDIS_URL (see README).")
    return redis.Redis.from_url(settings.CACHE_REDIS_URL)


@pytest.fixture
def cache_server(tmp_path, settings, cache_redis):
    """A redis-server of the test's own as the cache (with the project's client options), to stop and freeze."""
    from tests.integration.conftest import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url()}}
    yield server
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGCONT)
    server.stop()
