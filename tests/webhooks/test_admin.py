"""Publishers manage webhook endpoints in the admin; the secret is shown once; test events and redeliveries."""

import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from tests.factories import user_in_role
from webhooks import delivery
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/webhooks/endpoint/add/"


def test_a_publisher_adds_an_endpoint_and_sees_its_secret_once(client, publisher, receiver):
    client.force_login(publisher)
    response = client.post(ADD_URL, {"url": receiver.url, "description": "Slack bot",
                                     "events": ["issue.published", "issue.withdrawn"], "active": "on"})  # fmt: skip
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.created_by == publisher and endpoint.events == ["issue.published", "issue.withdrawn"]
    page = response.content.decode()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in page
    assert "no-store" in response["Cache-Control"]

    change_page = client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in change_page and f"whsec_…{endpoint.secret[-4:]}" in change_page


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.1/hooks", "not a public address"),
        ("ftp://example.com/hooks", "Only http or https URLs are allowed."),
    ],
)
def test_an_address_the_site_would_not_call_is_refused_when_saved(client, publisher, url, message):
    client.force_login(publisher)
    response = client.post(ADD_URL, {"url": url, "events": ["issue.published"], "active": "on"})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_production_needs_https(client, publisher, settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    client.force_login(publisher)
    response = client.post(ADD_URL, {"url": "http://example.com/hooks", "events": ["issue.published"]})
    assert "Only https URLs are allowed." in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("role", ["Editor", "Contributor"])
def test_only_publishers_manage_endpoints(client, role):
    client.force_login(user_in_role(role))
    assert client.get("/admin/webhooks/endpoint/").status_code == 403
    assert client.post(ADD_URL, {"url": "https://example.com/", "events": ["issue.published"]}).status_code == 403
    assert not Endpoint.objects.exists()


def test_send_a_test_event_rotate_and_redeliver_from_the_admin(
    client, publisher, receiver, django_capture_on_commit_callbacks
):
    endpoint = Endpoint.objects.create(url=receiver.url, events=["issue.published"], secret=delivery.new_secret())
    client.force_login(publisher)
    changelist = "/admin/webhooks/endpoint/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    payload = Webhook(endpoint.secret).verify(receiver.calls[0]["body"], receiver.calls[0]["headers"])
    assert payload["type"] == "webhook.test" and publisher.username in payload["data"]["message"]

    response = client.post(changelist, {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.secret in response.content.decode() and endpoint.previous_secret

    sent = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/webhooks/delivery/", {"action": "redeliver", "_selected_action": [sent.pk]})
    assert [call["headers"]["webhook-id"] for call in receiver.calls] == [sent.message_id] * 2
    detail = client.get(reverse("admin:webhooks_delivery_change", args=[sent.pk])).content.decode()
    assert detail.count("answered 200") == 2  # each attempt is logged with the answer's first bytes


def test_the_change_pages_have_buttons_for_a_test_event_a_rotation_and_a_redelivery(
    client, publisher, receiver, django_capture_on_commit_callbacks
):
    endpoint = Endpoint.objects.create(url=receiver.url, events=["issue.published"], secret=delivery.new_secret())
    client.force_login(publisher)
    page = client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])).content.decode()
    assert "Send a test event" in page and "Rotate the signing secret" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:webhooks_endpoint_send_test_event", args=[endpoint.pk]))
    assert response.status_code == 302 and len(receiver.calls) == 1
    sent = Delivery.objects.get()
    assert "Redeliver" in client.get(reverse("admin:webhooks_delivery_change", args=[sent.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:webhooks_delivery_redeliver", args=[sent.pk]))
    assert [call["headers"]["webhook-id"] for call in receiver.calls] == [sent.message_id] * 2
    rotated = client.post(reverse("admin:webhooks_endpoint_rotate_secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()
    assert client.get(reverse("admin:webhooks_endpoint_rotate_secret", args=[endpoint.pk])).status_code == 405

    client.force_login(user_in_role("Editor"))
    assert client.post(reverse("admin:webhooks_endpoint_send_test_event", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("admin:webhooks_delivery_redeliver", args=[sent.pk])).status_code == 403
