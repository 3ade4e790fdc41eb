"""Django's Redis cache backend, reusing one Redis client per connection pool.

Django's client builds a new ``redis.Redis`` for every cache call, and redis-py fills a
table of some 170 response callbacks each time: on a page served from the cache that was
a third of the request's time (measured by bench/run.py as the cached issue page's
requests per second). A ``redis.Redis`` is thread-safe and its pool notices a fork, so
one per pool is enough.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        # Pools live as long as this object, so their ids are stable keys.
        if id(pool) not in self._clients:
            self._clients[id(pool)] = self._client(connection_pool=pool)
        return self._clients[id(pool)]


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
