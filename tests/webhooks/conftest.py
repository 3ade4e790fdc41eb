import pytest

from tests.factories import user_in_role

from .receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def publisher(db):
    return user_in_role("Publisher")
