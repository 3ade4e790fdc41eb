"""The newsletter's end of a mailing reaches the endpoints that chose it, signed, with its counts."""

import pytest

from newsletter import sending
from tests.factories import IssueFactory, PlacementFactory
from tests.newsletter.helpers import confirmed
from tests.newsletter.smtp_sink import SmtpSink
from webhooks.models import Delivery

from .test_delivery import endpoint_at, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    sink = SmtpSink().start()
    for name, value in sink.settings.items():
        setattr(settings, name, value)
    yield sink
    sink.stop()


def test_a_finished_mailing_is_reported_once_with_what_was_sent_and_refused(
    smtp, receiver, django_capture_on_commit_callbacks
):
    chose_it = endpoint_at(receiver.url + "/mailings", events=["mailing.finished"])
    endpoint_at(receiver.url + "/issues-only", events=["issue.published"])
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue)
    confirmed("one@example.com", "two@example.com", "gone@example.com")
    smtp.reject = {"gone@example.com"}

    with django_capture_on_commit_callbacks(execute=True):
        mailing = sending.start_mailing(issue=issue)

    assert [call["path"] for call in receiver.calls] == ["/hooks/mailings"]
    payload = verified(chose_it, receiver.calls[0])
    assert payload["type"] == "mailing.finished"
    assert payload["data"]["issue"]["slug"] == issue.slug
    reported = payload["data"]["mailing"]
    assert (reported["id"], reported["total"], reported["sent"], reported["failed"], reported["skipped"]) == (
        mailing.pk, 3, 2, 1, 0,
    )  # fmt: skip
    assert Delivery.objects.get().event_type == "mailing.finished"
