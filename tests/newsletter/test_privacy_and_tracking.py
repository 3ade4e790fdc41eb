"""Data export, erasure with a keyed hash, and bounces and complaints from the provider's webhook."""

import base64
import json

import pytest

from newsletter import subscriptions
from newsletter.models import ErasedAddress, Recipient, Subscriber, SubscriberStatus

pytestmark = pytest.mark.django_db


def test_a_subscriber_gets_their_data_by_email(client, smtp, django_capture_on_commit_callbacks):
    subscriber = Subscriber.objects.create(email="me@example.com", status=SubscriberStatus.CONFIRMED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/unsubscribe/{subscriber.token}/data/")
    assert response.status_code == 200 and not response.cookies
    [message] = smtp.messages()
    assert smtp.recipients() == ["me@example.com"]  # to the address itself: only its owner reads it
    body = message.get_content()
    data = json.loads(body[body.index("{") : body.rindex("}") + 1])
    assert data["email"] == "me@example.com" and data["status"] == "confirmed"


def test_erasure_keeps_only_a_keyed_hash_and_the_address_is_never_imported_again(client, superuser, settings):
    subscriber = Subscriber.objects.create(email="gone@example.com", status=SubscriberStatus.CONFIRMED)
    response = client.post(f"/unsubscribe/{subscriber.token}/erase/")
    assert response.status_code == 200 and b"erased" in response.content
    assert not Subscriber.objects.exists()
    [erased] = ErasedAddress.objects.all()
    assert "gone" not in erased.digest and erased.digest == subscriptions.address_digest("Gone@Example.com")
    settings.NEWSLETTER_HASH_KEY = "another key"
    assert erased.digest != subscriptions.address_digest("gone@example.com")  # keyed, not a bare hash
    settings.NEWSLETTER_HASH_KEY = f"newsletter-erasure:{settings.SECRET_KEY}"
    counts = subscriptions.import_csv(b"email,consent\ngone@example.com,yes\n", by=superuser, source="old list")
    assert counts["erased, skipped"] == 1 and not Subscriber.objects.exists()


def test_erasure_removes_the_address_from_past_mailings(db):
    from newsletter.models import Mailing, RecipientStatus
    from tests.factories import IssueFactory

    subscriber = Subscriber.objects.create(email="past@example.com", status=SubscriberStatus.CONFIRMED)
    mailing = Mailing.objects.create(issue=IssueFactory(published=True), subject="s", html="h", text="t", total=1)
    Recipient.objects.create(mailing=mailing, subscriber=subscriber, email=subscriber.email, token=subscriber.token,
                             status=RecipientStatus.SENT)  # fmt: skip
    subscriptions.erase(subscriber=subscriber)
    row = Recipient.objects.get()
    assert row.email == "" and row.token == "" and row.status == RecipientStatus.SENT


def postmark(client, payload, secret="hook:s3cret"):
    auth = base64.b64encode(secret.encode()).decode()
    return client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Basic {auth}")  # fmt: skip


@pytest.fixture
def webhook(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}


def test_a_bounce_and_a_complaint_from_the_providers_webhook_stop_all_mail(client, webhook):
    bounced, complained, other = (
        Subscriber.objects.create(email=f"{name}@example.com", status=SubscriberStatus.CONFIRMED)
        for name in ("bounced", "complained", "other")
    )
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": "m1",
        "Email": "Bounced@example.com",
        "Details": "smtp;550 5.1.1 The email account does not exist",
        "Description": "The server was unable to deliver your message",
        "BouncedAt": "2026-11-30T10:00:00Z",
    }
    complaint = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "TypeCode": 512, "MessageID": "m2",
                 "Email": "complained@example.com", "BouncedAt": "2026-11-30T10:00:00Z"}  # fmt: skip
    assert postmark(client, bounce).status_code == 200
    assert postmark(client, complaint).status_code == 200
    bounced.refresh_from_db(), complained.refresh_from_db(), other.refresh_from_db()
    assert bounced.status == SubscriberStatus.BOUNCED
    assert "550 5.1.1" in bounced.events.first().note
    assert complained.status == SubscriberStatus.COMPLAINED
    assert other.status == SubscriberStatus.CONFIRMED
    # Without the webhook's secret, nothing changes.
    other_bounce = {**bounce, "Email": "other@example.com"}
    assert postmark(client, other_bounce, secret="hook:wrong").status_code == 400
    other.refresh_from_db()
    assert other.status == SubscriberStatus.CONFIRMED


def test_without_a_webhook_secret_configured_nobody_can_report_a_subscriber_as_complaining(client, settings):
    settings.ANYMAIL = {}  # the provider's webhook was never given its credentials
    subscriber = Subscriber.objects.create(email="reader@example.com", status=SubscriberStatus.CONFIRMED)
    complaint = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "TypeCode": 512, "MessageID": "m3",
                 "Email": "reader@example.com", "BouncedAt": "2026-11-30T10:00:00Z"}  # fmt: skip
    response = client.post("/anymail/postmark/tracking/", json.dumps(complaint), content_type="application/json")
    assert response.status_code < 500
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert not subscriber.events.exists()
