"""Webhook deliveries against a real HTTP receiver on loopback, verified as a receiver would verify them.

Each test drives the real path: the core's signal (from a publication run, a correction, a
withdrawal) writes the deliveries, the task sends them through the outbound guard, the
receiver checks the Standard Webhooks signature with the ``standardwebhooks`` package.
"""

import datetime
import json
import socket
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from digest import corrections, publishing, workflow
from digest.models import Issue, IssueState
from digest.signals import issue_published
from tests.factories import issue_with_stories
from tests.raw_http import one_raw_answer
from webhooks import delivery
from webhooks.models import Delivery, DeliveryState, Endpoint

from .receiver import Receiver

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["issue.published", "issue.corrected", "issue.withdrawn"]


def endpoint_at(url, events=ALL_EVENTS, **fields):
    return Endpoint.objects.create(url=url, events=list(events), secret=delivery.new_secret(), **fields)


def verified(endpoint, call):
    """The payload of a call, verified with the endpoint's secret as a receiver does; raises if forged."""
    return Webhook(endpoint.secret).verify(call["body"], call["headers"])


def published(publisher, capture, **fields):
    issue = issue_with_stories(state=IssueState.APPROVED, **fields)
    with capture(execute=True):
        run = publishing.publish(issue=issue, by=publisher)
    run.refresh_from_db()
    assert run.state == "completed", run.last_error
    issue.refresh_from_db()
    return issue


def backoff_passed(delivery_row):
    """Let the delivery's retry time come (the beat would send it then)."""
    Delivery.objects.filter(pk=delivery_row.pk).update(next_attempt_at=timezone.now())


def test_a_publication_calls_each_subscribed_endpoint_once_with_a_valid_signature(
    receiver, publisher, django_capture_on_commit_callbacks
):
    subscribed = endpoint_at(receiver.url + "/a")
    also = endpoint_at(receiver.url + "/b", events=["issue.published"])
    endpoint_at(receiver.url + "/withdrawals-only", events=["issue.withdrawn"])
    endpoint_at(receiver.url + "/inactive", active=False)

    issue = published(publisher, django_capture_on_commit_callbacks, title="Week of <b>cells</b> & queues")

    assert sorted(call["path"] for call in receiver.calls) == ["/hooks/a", "/hooks/b"]
    for endpoint in (subscribed, also):
        call = next(call for call in receiver.calls if call["path"] == urlsplit(endpoint.url).path)
        payload = verified(endpoint, call)
        assert payload["type"] == "issue.published"
        assert payload["data"]["issue"]["slug"] == issue.slug
        assert payload["data"]["issue"]["title"] == "Week of <b>cells</b> & queues"
        assert payload["data"]["issue"]["api_url"].endswith(f"/api/v1/issues/{issue.slug}/")
        row = Delivery.objects.get(endpoint=endpoint)
        assert call["headers"]["webhook-id"] == row.message_id
        assert row.state == DeliveryState.DELIVERED and row.attempts == 1
        attempt = row.attempt_log.get()
        assert attempt.succeeded and attempt.status_code == 200 and attempt.response_excerpt == "answered 200"
    # Another endpoint's secret does not verify it: each endpoint has its own.
    call_b = next(call for call in receiver.calls if call["path"] == "/hooks/b")
    with pytest.raises(WebhookVerificationError):
        Webhook(subscribed.secret).verify(call_b["body"], call_b["headers"])


def test_deliveries_are_written_in_the_transaction_of_the_event_and_sent_only_after_it_commits(
    receiver, publisher, django_capture_on_commit_callbacks
):
    endpoint_at(receiver.url)
    issue = issue_with_stories(state=IssueState.PUBLISHED, published_at=timezone.now())
    with pytest.raises(RuntimeError), transaction.atomic():
        issue_published.send(sender=Issue, issue=issue, run=None)
        assert Delivery.objects.count() == 1  # written with the event...
        raise RuntimeError("the publication's transaction fails")
    assert Delivery.objects.count() == 0  # ...and gone with it
    assert receiver.calls == []

    with django_capture_on_commit_callbacks() as callbacks:
        issue_published.send(sender=Issue, issue=issue, run=None)
    assert receiver.calls == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    assert len(receiver.calls) == 1


def test_a_publication_while_the_broker_is_down_loses_no_delivery(
    receiver, publisher, django_capture_on_commit_callbacks, settings
):
    from config.celery import app

    endpoint = endpoint_at(receiver.url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    original = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = f"redis://127.0.0.1:{closed_port}/0", False
    try:
        issue = issue_with_stories(state=IssueState.PUBLISHED, published_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            issue_published.send(sender=Issue, issue=issue, run=None)  # the queueing fails, and is only logged
    finally:
        app.conf.broker_url, app.conf.task_always_eager = original
        app._after_fork()
    assert receiver.calls == []
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.PENDING
    assert delivery.deliver_due() == 1  # the beat's minute, once the broker is back
    assert len(receiver.calls) == 1
    assert receiver.calls[0]["headers"]["webhook-id"] == row.message_id


def test_a_receiver_that_is_down_then_up_gets_the_delivery_with_the_same_webhook_id(
    publisher, django_capture_on_commit_callbacks
):
    down = Receiver().start()
    port = down.port
    down.stop()  # nobody listens on the endpoint's port now
    endpoint = endpoint_at(f"http://127.0.0.1:{port}/hooks")
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.PENDING and row.attempts == 1
    first = row.attempt_log.get()
    assert not first.succeeded and first.status_code is None and "failed" in first.error
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=3)  # backoff, not at once

    up = Receiver().start(port=port)
    try:
        backoff_passed(row)
        delivery.deliver_due()
    finally:
        up.stop()
    row.refresh_from_db()
    assert row.state == DeliveryState.DELIVERED and row.attempts == 2
    assert [call["headers"]["webhook-id"] for call in up.calls] == [row.message_id]
    assert verified(endpoint, up.calls[0])["type"] == "issue.published"


def test_an_answer_of_500_is_retried_with_the_same_id_and_body(receiver, publisher, django_capture_on_commit_callbacks):
    endpoint = endpoint_at(receiver.url)
    receiver.status = 500
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.PENDING and row.last_error == "The receiver answered 500."
    assert row.attempt_log.get().status_code == 500

    delivery.deliver_due()  # not due yet: nothing is sent
    assert len(receiver.calls) == 1

    receiver.status = 204
    backoff_passed(row)
    delivery.deliver_due()
    row.refresh_from_db()
    assert row.state == DeliveryState.DELIVERED
    first, second = receiver.calls
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == row.message_id
    assert first["body"] == second["body"]
    assert verified(endpoint, first) == verified(endpoint, second)
    assert list(row.attempt_log.order_by("started_at").values_list("status_code", flat=True)) == [500, 204]


def test_an_endpoint_failing_through_the_whole_schedule_is_disabled_with_a_notice(
    receiver, publisher, django_capture_on_commit_callbacks, settings, admin_client
):
    settings.WEBHOOK_RETRY_SCHEDULE = [60, 600]
    endpoint = endpoint_at(receiver.url)
    receiver.status = 503
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    for _ in settings.WEBHOOK_RETRY_SCHEDULE:
        backoff_passed(row)
        delivery.deliver_due()
    row.refresh_from_db()
    endpoint.refresh_from_db()
    assert row.state == DeliveryState.FAILED and row.attempts == 3 and len(receiver.calls) == 3
    assert not endpoint.active and endpoint.disabled_at is not None
    assert "failed 3 times" in endpoint.disabled_reason and "503" in endpoint.disabled_reason

    page = admin_client.get("/admin/webhooks/endpoint/").content.decode()
    assert "was disabled" in page and "failed 3 times" in page

    # A later event is not sent to it.
    published(publisher, django_capture_on_commit_callbacks)
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1


def test_a_private_address_is_refused_without_retries(publisher, django_capture_on_commit_callbacks):
    endpoint = endpoint_at("http://10.20.30.40:8080/hooks")
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.FAILED and row.attempts == 1
    assert "not allowed" in row.attempt_log.get().error


def test_a_host_that_resolves_to_a_private_address_is_refused(
    publisher, django_capture_on_commit_callbacks, monkeypatch
):
    real = socket.getaddrinfo

    def internal(host, *args, **kwargs):
        if host == "hooks.internal.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", internal)
    endpoint = endpoint_at("http://hooks.internal.test/hooks")
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.FAILED
    assert "non-public address" in row.attempt_log.get().error


def test_a_host_that_resolves_to_a_private_address_on_the_second_lookup_is_never_called_there(
    receiver, publisher, django_capture_on_commit_callbacks, monkeypatch
):
    """DNS rebinding: the first answer is the receiver (loopback, allowed in tests), any later one private.

    The delivery goes to the address that was checked: there is no second lookup.
    """
    real, lookups = socket.getaddrinfo, []

    def rebinding(host, *args, **kwargs):
        if host != "hooks.rebind.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "10.0.0.8"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, receiver.port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    endpoint = endpoint_at(f"http://hooks.rebind.test:{receiver.port}/hooks")
    published(publisher, django_capture_on_commit_callbacks)
    assert lookups == ["hooks.rebind.test"]
    assert receiver.calls[0]["headers"]["Host"] == f"hooks.rebind.test:{receiver.port}"
    assert Delivery.objects.get(endpoint=endpoint).state == DeliveryState.DELIVERED


def test_corrections_and_withdrawals_are_sent_to_the_endpoints_that_chose_them(
    receiver, publisher, django_capture_on_commit_callbacks
):
    corrected_only = endpoint_at(receiver.url + "/corrections", events=["issue.corrected"])
    withdrawn_only = endpoint_at(receiver.url + "/withdrawals", events=["issue.withdrawn"])
    issue = published(publisher, django_capture_on_commit_callbacks)
    assert receiver.calls == []
    issue.week_in_review = "Corrected words."
    issue.save()
    with django_capture_on_commit_callbacks(execute=True):
        corrections.record_correction(issue=issue, by=publisher, note="Fixed a <name>")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(issue=issue, by=publisher, comment="Legal asked")
    by_path = {call["path"]: call for call in receiver.calls}
    correction = verified(corrected_only, by_path["/hooks/corrections"])
    assert correction["type"] == "issue.corrected" and correction["data"]["correction"]["note"] == "Fixed a <name>"
    withdrawal = verified(withdrawn_only, by_path["/hooks/withdrawals"])
    assert withdrawal["type"] == "issue.withdrawn" and withdrawal["data"]["issue"]["slug"] == issue.slug
    assert len(receiver.calls) == 2


def test_a_rotated_secret_still_verifies_during_its_grace_period_and_then_no_more(
    receiver, publisher, django_capture_on_commit_callbacks
):
    endpoint = endpoint_at(receiver.url)
    old_secret = endpoint.secret
    new_secret = delivery.rotate_secret(endpoint)
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        delivery.send_test_event(endpoint, by=publisher)
    call = receiver.calls[-1]
    assert len(call["headers"]["webhook-signature"].split(" ")) == 2
    assert Webhook(old_secret).verify(call["body"], call["headers"])["type"] == "webhook.test"
    assert Webhook(new_secret).verify(call["body"], call["headers"])["type"] == "webhook.test"

    Endpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        delivery.send_test_event(endpoint, by=publisher)
    call = receiver.calls[-1]
    Webhook(new_secret).verify(call["body"], call["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(call["body"], call["headers"])


def test_redelivery_sends_the_same_message_again(receiver, publisher, django_capture_on_commit_callbacks):
    endpoint = endpoint_at(receiver.url)
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.redeliver(row)
    first, second = receiver.calls
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert json.loads(first["body"]) == json.loads(second["body"])
    row.refresh_from_db()
    assert row.state == DeliveryState.DELIVERED and row.attempt_log.count() == 2


def test_a_receivers_answer_with_nul_bytes_is_recorded_shown_without_them(
    receiver, publisher, django_capture_on_commit_callbacks
):
    endpoint = endpoint_at(receiver.url)
    receiver.answer = b"ok\x00\x00 thanks\x00"
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.DELIVERED
    assert row.attempt_log.get().response_excerpt == "ok thanks"


def test_a_status_line_with_a_nul_byte_is_a_failed_attempt_recorded_without_it(
    publisher, django_capture_on_commit_callbacks
):
    with one_raw_answer(b"HTTP/1.1 2\x0000 OK\r\nContent-Length: 0\r\n\r\n") as port:
        endpoint = endpoint_at(f"http://127.0.0.1:{port}/hooks")
        published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.PENDING and row.attempts == 1  # retried later, as any failed attempt
    error = row.attempt_log.get().error
    assert error.startswith("Request to 127.0.0.1 failed") and "\x00" not in error


def test_an_attempt_that_ends_after_its_lease_decides_nothing(receiver, publisher, django_capture_on_commit_callbacks):
    """A reviewer's find: a worker that came back after its lease could mark a delivered row failed."""
    endpoint = endpoint_at(receiver.url)
    receiver.status = 500
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    backoff_passed(row)
    late = delivery._claim(row.pk)  # this worker stalls past its lease…
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    receiver.status = 204
    delivery.attempt(row.pk)  # …another takes the delivery and delivers it
    row.refresh_from_db()
    assert row.state == DeliveryState.DELIVERED
    delivery._record(late, timezone.now(), 30_000, None, False, "", "Timed out.", False)  # the stalled one ends
    row.refresh_from_db()
    assert row.state == DeliveryState.DELIVERED and row.last_error == ""
    assert row.attempt_log.count() == 3  # every attempt is in the log, the late one too


def test_a_receiver_that_accepts_with_a_long_page_has_the_event(
    receiver, publisher, django_capture_on_commit_callbacks
):
    """A reviewer's find: a 2xx answer over 64 KiB was a failed attempt: sent 8 times, then disabled."""
    endpoint = endpoint_at(receiver.url)
    receiver.answer = b"<p>Thanks!</p>" * 10_000  # 140 KB, chunked or not: only its start is read
    published(publisher, django_capture_on_commit_callbacks)
    row = Delivery.objects.get(endpoint=endpoint)
    assert row.state == DeliveryState.DELIVERED and row.attempts == 1 and len(receiver.calls) == 1
    assert row.attempt_log.get().response_excerpt.startswith("<p>Thanks!</p>")
