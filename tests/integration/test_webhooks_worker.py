"""Webhooks through a real Celery worker, real Redis and PostgreSQL, to a real receiver on loopback.

Outages (the broker down at publication, the receiver down then up, 500s) are in
``tests/webhooks/test_delivery.py``, where the beat's pass is called directly.
"""

import pytest
from standardwebhooks.webhooks import Webhook

from digest import publishing
from digest.models import IssueState
from tests.factories import issue_with_stories, user_in_role
from tests.webhooks.receiver import Receiver
from webhooks.delivery import new_secret
from webhooks.models import Delivery, DeliveryState, Endpoint

from .conftest import wait_for

pytestmark = pytest.mark.worker

# The worker's settings: the receiver is on loopback, plain HTTP.
WORKER_SETTINGS = {
    "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
    "WEBHOOKS_REQUIRE_HTTPS": "false",
}


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def broker(services):
    server = services.redis()
    services.use(broker=server, cache=server)
    return server


def delivered(endpoint):
    return Delivery.objects.filter(endpoint=endpoint, state=DeliveryState.DELIVERED).exists()


def test_a_publication_reaches_the_receiver_signed(services, broker, receiver):
    services.worker(**WORKER_SETTINGS)
    endpoint = Endpoint.objects.create(url=receiver.url, events=["issue.published"], secret=new_secret())
    issue = issue_with_stories(state=IssueState.APPROVED)
    publishing.publish(issue=issue, by=user_in_role("Publisher"))
    wait_for(lambda: delivered(endpoint), 30, "the webhook to be delivered")
    (call,) = receiver.calls
    payload = Webhook(endpoint.secret).verify(call["body"], call["headers"])
    assert payload["type"] == "issue.published" and payload["data"]["issue"]["slug"] == issue.slug
