import os
from functools import partial

import pytest
from django.conf import settings
from django.core.cache import cache

from digest.management.commands.load_demo import DEMO_ISSUE
from tests.services import missing

from .factories import UserFactory
from .reader_pages import build_reader_pages


def pytest_configure(config):
    """In CI the suite must run against the real services, never quietly without them."""
    if os.environ.get("CI") == "true":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine or not settings.REDIS_URL:
            raise pytest.UsageError(
                f"CI needs DATABASE_URL on PostgreSQL and REDIS_URL set "
                f"(got {engine}, REDIS_URL={settings.REDIS_URL!r})."
            )


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_text():
    return DEMO_ISSUE.read_text(encoding="utf-8")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` the change inside commits at the end of the block, and the work
    queued for after its commit runs then (purges; the publish run on eager Celery)."""
    return partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture
def postgresql(db):
    """For tests that need PostgreSQL itself (row locks, a second process on the same data)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        missing("This test needs PostgreSQL: set DATABASE_URL (see README).")


@pytest.fixture
def reader_pages(db):
    """One URL per reader page type, on the demo content (see tests/reader_pages.py)."""
    return build_reader_pages()
