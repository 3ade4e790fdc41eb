import datetime

import pytest

from .feed_server import FeedServer


@pytest.fixture
def feed_server():
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _quick_bounds(settings):
    """Short timeouts and a small size cap, so the slow and huge feeds fail fast."""
    settings.INTAKE_CONNECT_TIMEOUT = 1.0
    settings.INTAKE_READ_TIMEOUT = 0.5
    settings.INTAKE_FETCH_TIMEOUT = 2.0
    settings.INTAKE_MAX_FEED_BYTES = 256 * 1024


def posts(base, count, *, start=0, prefix="Post"):
    moment = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)
    return [
        {
            "title": f"{prefix} {n}",
            "link": f"{base}/posts/{n}",
            "summary": f"What happened in post {n}.",
            "author": f"Author {n}",
            "published": moment + datetime.timedelta(hours=n),
        }
        for n in range(start, start + count)
    ]


@pytest.fixture
def editor(db):
    from tests.factories import user_in_role

    return user_in_role("Editor")
