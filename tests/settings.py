"""Test settings: the real settings, plus what only tests need."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

# Under `pytest -n` (pytest-xdist) each worker process gets a Redis database and a media folder of its
# own, as it gets a test database of its own from pytest-django: tests clear the cache and write files.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    worker_index = int(XDIST_WORKER.removeprefix("gw"))
    for name in ("REDIS_URL", "CACHE_REDIS_URL"):
        url = os.environ.get(name, "")
        base, _, database = url.rpartition("/")
        if url and database.isdigit():
            os.environ[name] = f"{base}/{(int(database) + worker_index) % 16}"

from config.settings import *  # noqa: E402, F403 -- after the environment above is set
from config.settings import BASE_DIR, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
MEDIA_ROOT = BASE_DIR / "var" / f"test-media{'-' + XDIST_WORKER if XDIST_WORKER else ''}"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
WHITENOISE_AUTOREFRESH = True  # serve static files from the finders; no collectstatic in tests
# Tests' servers (webhook receivers, feed servers) listen on loopback, which production refuses.
OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
# Hundreds of tests sign publishers and superusers in with force_login; the accounts tests
# turn the production default ("Publisher", "superuser") back on where they need it.
ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = []
WEBHOOKS_REQUIRE_HTTPS = False  # the tests' receivers speak plain HTTP on loopback
API_RATE_LIMIT_PER_MINUTE = 100_000  # the crawls and schemathesis; the rate limit's own test sets its limit
