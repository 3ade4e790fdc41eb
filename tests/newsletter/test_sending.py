"""Sending a mailing through a real SMTP server: failures, retries, one mailing per issue, control."""

import pytest
from django.core import mail as django_mail

from digest import workflow
from digest.models import IssueState
from newsletter import sending
from newsletter.models import Mailing, MailingState, Recipient, RecipientStatus, SubscriberStatus
from newsletter.signals import mailing_finished
from tests.factories import IssueFactory, PlacementFactory, user_in_role

from .helpers import approved_issue, confirmed, publish_and_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_issue():
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue)
    return issue


@pytest.fixture
def finished(request):
    received = []

    def receiver(sender, mailing, **kwargs):
        received.append(mailing.pk)

    mailing_finished.connect(receiver, dispatch_uid="test-finished")
    yield received
    mailing_finished.disconnect(dispatch_uid="test-finished")


def mail(issue, capture):
    with capture(execute=True):
        return sending.start_mailing(issue=issue)


def test_a_server_refusing_with_421_for_a_while_is_retried_and_the_mailing_completes(
    smtp, settings, published_issue, django_capture_on_commit_callbacks, finished
):
    settings.NEWSLETTER_RETRY_BACKOFF_SECONDS = 0
    addresses = [f"reader{n}@example.com" for n in range(12)]
    confirmed(*addresses)
    smtp.refuse_next = 5
    mailing = mail(published_issue, django_capture_on_commit_callbacks)
    mailing.refresh_from_db()
    assert smtp.refused == 5
    assert sorted(smtp.recipients()) == sorted(addresses)  # each once
    assert mailing.state == MailingState.COMPLETED and finished == [mailing.pk]
    retried = Recipient.objects.filter(mailing=mailing, attempts__gt=1)
    assert retried.exists() and all("421" in row.last_error or row.last_error == "" for row in retried)
    assert set(Recipient.objects.filter(mailing=mailing).values_list("status", flat=True)) == {RecipientStatus.SENT}


def test_a_temporary_failure_waits_for_its_backoff(smtp, settings, published_issue, django_capture_on_commit_callbacks):
    settings.NEWSLETTER_RETRY_BACKOFF_SECONDS = 600
    confirmed("a@example.com", "b@example.com")
    smtp.refuse_next = 1
    mailing = mail(published_issue, django_capture_on_commit_callbacks)
    mailing.refresh_from_db()
    assert smtp.recipients() == []  # the connection failed: the batch waits, the other row too
    assert mailing.state == MailingState.SENDING
    rows = Recipient.objects.filter(mailing=mailing)
    assert {row.status for row in rows} == {RecipientStatus.PENDING}
    assert all(row.retry_at is not None for row in rows)
    assert sending.resume_mailings(enqueue=False) == []  # nothing due yet


def test_550_for_some_addresses_marks_them_failed_and_sends_the_rest(
    smtp, published_issue, django_capture_on_commit_callbacks, finished, admin_client
):
    confirmed("ok1@example.com", "gone@example.com", "ok2@example.com", "gone2@example.com")
    smtp.reject = {"gone@example.com", "gone2@example.com"}
    mailing = mail(published_issue, django_capture_on_commit_callbacks)
    mailing.refresh_from_db()
    assert sorted(smtp.recipients()) == ["ok1@example.com", "ok2@example.com"]
    failed = Recipient.objects.filter(mailing=mailing, status=RecipientStatus.FAILED)
    assert sorted(failed.values_list("email", flat=True)) == ["gone2@example.com", "gone@example.com"]
    assert all(row.last_error.startswith("550 5.1.1 No such mailbox") and row.attempts == 1 for row in failed)
    assert mailing.state == MailingState.COMPLETED and finished == [mailing.pk]
    # The admin lists the failures with the server's answer.
    response = admin_client.get(f"/admin/newsletter/mailing/{mailing.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "gone@example.com" in page and "550 5.1.1 No such mailbox here" in page
    assert "2 sent" in page and "2 failed" in page


def test_a_batch_goes_over_one_connection(smtp, settings, published_issue, django_capture_on_commit_callbacks):
    settings.NEWSLETTER_BATCH_SIZE = 10
    confirmed(*(f"reader{n}@example.com" for n in range(25)))
    mailing = mail(published_issue, django_capture_on_commit_callbacks)
    assert len(smtp.recipients()) == 25
    assert len(smtp.connections) == 3  # batches of 10, 10 and 5: not one connection a message
    assert Recipient.objects.filter(mailing=mailing, status=RecipientStatus.SENT).count() == 25


def test_the_server_down_is_a_temporary_failure(settings, published_issue, django_capture_on_commit_callbacks):
    from .smtp_sink import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    confirmed("a@example.com")
    mailing = mail(published_issue, django_capture_on_commit_callbacks)
    row = Recipient.objects.get(mailing=mailing)
    assert row.status == RecipientStatus.PENDING and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error


def test_only_confirmed_subscribers_at_that_moment_are_mailed_and_later_unsubscribes_are_skipped(
    smtp, published_issue, django_capture_on_commit_callbacks
):
    _, b = confirmed("a@example.com", "b@example.com")
    from newsletter.models import Subscriber

    Subscriber.objects.create(email="pending@example.com")
    Subscriber.objects.create(email="bounced@example.com", status=SubscriberStatus.BOUNCED)
    with django_capture_on_commit_callbacks(execute=False):
        mailing = sending.start_mailing(issue=published_issue)
    assert mailing.total == 2
    b.status = SubscriberStatus.UNSUBSCRIBED
    b.save()
    sending.send_mailing(mailing.pk)
    assert smtp.recipients() == ["a@example.com"]
    assert Recipient.objects.get(mailing=mailing, email="b@example.com").status == RecipientStatus.SKIPPED


def test_one_mailing_per_issue_ever_and_withdrawing_stops_it(smtp, django_capture_on_commit_callbacks):
    confirmed("a@example.com")
    publisher = user_in_role("Publisher")
    issue = approved_issue()
    publish_and_mail(issue, django_capture_on_commit_callbacks, publisher)
    assert len(smtp.recipients()) == 1
    # Withdrawn and published again: not mailed again.
    workflow.withdraw(issue=issue, by=publisher, comment="Pulled")
    workflow.back_to_draft(issue=issue, by=publisher)
    issue.state = IssueState.APPROVED
    issue.save(update_fields=["state"])
    from tests.factories import record_approval

    record_approval(issue)
    publish_and_mail(issue, django_capture_on_commit_callbacks, publisher)
    assert issue.state == IssueState.PUBLISHED
    assert len(smtp.recipients()) == 1
    assert Mailing.objects.filter(issue=issue).count() == 1
    # Unless a publisher asks for it explicitly.
    with django_capture_on_commit_callbacks(execute=True):
        again = sending.start_mailing(issue=issue, by=publisher)
    assert again.requested_by == publisher and len(smtp.recipients()) == 2

    # Withdrawing an issue stops its mailing in progress.
    confirmed("b@example.com")
    with django_capture_on_commit_callbacks(execute=False):
        third = sending.start_mailing(issue=issue, by=publisher)
    workflow.withdraw(issue=issue, by=publisher, comment="Pulled")
    third.refresh_from_db()
    assert third.state == MailingState.CANCELLED
    assert sending.send_mailing(third.pk) is None
    assert len(smtp.recipients()) == 2
    assert set(third.recipients.values_list("status", flat=True)) == {RecipientStatus.SKIPPED}


def test_pause_resume_cancel(smtp, published_issue, django_capture_on_commit_callbacks):
    confirmed("a@example.com", "b@example.com")
    publisher = user_in_role("Publisher")
    editor = user_in_role("Editor")
    with django_capture_on_commit_callbacks(execute=False):
        mailing = sending.start_mailing(issue=published_issue)
    with pytest.raises(sending.PermissionDenied):
        sending.pause(mailing=mailing, by=editor)
    sending.pause(mailing=mailing, by=publisher)
    assert sending.claim_batch(mailing.pk, 10) == []
    with django_capture_on_commit_callbacks(execute=True):
        sending.resume(mailing=mailing, by=publisher)
    assert len(smtp.recipients()) == 2
    with pytest.raises(sending.MailingNotAllowed):
        sending.cancel(mailing=mailing, by=publisher)  # completed


def test_two_workers_never_claim_the_same_recipient(published_issue, postgresql, django_capture_on_commit_callbacks):
    confirmed(*[f"r{n}@example.com" for n in range(30)])
    with django_capture_on_commit_callbacks(execute=False):
        mailing = sending.start_mailing(issue=published_issue)
    first = sending.claim_batch(mailing.pk, 20)
    second = sending.claim_batch(mailing.pk, 20)
    assert len(first) == 20 and len(second) == 10
    assert not {row[0] for row in first} & {row[0] for row in second}
    assert sending.claim_batch(mailing.pk, 20) == []


def test_a_dead_workers_claims_are_freed_by_the_beat(settings, published_issue, django_capture_on_commit_callbacks):
    import datetime

    from django.utils import timezone

    confirmed("a@example.com")
    with django_capture_on_commit_callbacks(execute=False):
        mailing = sending.start_mailing(issue=published_issue)
    sending.claim_batch(mailing.pk, 10)  # then the worker dies
    assert sending.resume_mailings(enqueue=False) == []
    later = timezone.now() + datetime.timedelta(seconds=settings.NEWSLETTER_CLAIM_TIMEOUT_SECONDS + 1)
    assert sending.resume_mailings(now=later, enqueue=False) == [mailing.pk]
    assert Recipient.objects.get(mailing=mailing).status == RecipientStatus.PENDING


def test_header_injection_through_the_subject_is_impossible(smtp, django_capture_on_commit_callbacks):
    confirmed("a@example.com")
    issue = IssueFactory(published=True, title="Weekly\r\nBcc: victim@example.net\r\nX-Evil: yes")
    PlacementFactory(issue=issue)
    mail(issue, django_capture_on_commit_callbacks)
    [message] = smtp.messages()
    assert smtp.recipients() == ["a@example.com"]
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert str(message["Subject"]).strip() == "Weekly Bcc: victim@example.net X-Evil: yes"


def test_a_test_send_goes_to_the_publisher_only(smtp, admin_client, superuser, django_capture_on_commit_callbacks):
    confirmed("a@example.com")
    superuser.email = "boss@example.com"
    superuser.save()
    issue = approved_issue()  # any state
    response = admin_client.post(f"/admin/newsletter/mailing/test/{issue.pk}/")
    assert response.status_code == 302
    [message] = smtp.messages()
    assert smtp.recipients() == ["boss@example.com"] and str(message["Subject"]).strip().startswith("[Test] ")
    assert not Mailing.objects.exists()
    assert django_mail.outbox == []


def test_a_test_sends_unsubscribe_link_explains_itself_and_changes_nothing(smtp, admin_client, superuser, client):
    """The publisher who clicks "unsubscribe" in a test gets a page saying what readers get, not a 404."""
    import re

    [reader] = confirmed("a@example.com")
    superuser.email = "boss@example.com"
    superuser.save()
    admin_client.post(f"/admin/newsletter/mailing/test/{approved_issue().pk}/")
    [message] = smtp.messages()
    link = re.fullmatch(r"<http://testserver(/unsubscribe/[\w-]+/)>", str(message["List-Unsubscribe"]).strip())[1]
    page = client.get(link)
    assert page.status_code == 200 and "test send" in page.content.decode()
    assert client.post(link).status_code == 200  # a mail client's one-click unsubscribe: nothing to do
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.CONFIRMED


def test_the_beat_revives_a_forgotten_mailing_but_never_multiplies_a_live_one(
    settings, published_issue, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    confirmed("a@example.com")
    with django_capture_on_commit_callbacks(execute=False):  # its message is lost
        mailing = sending.start_mailing(issue=published_issue)
    assert sending.resume_mailings(enqueue=False) == []  # a task may still be on its way
    later = timezone.now() + datetime.timedelta(seconds=settings.NEWSLETTER_TASK_SECONDS + 1)
    assert sending.resume_mailings(now=later, enqueue=False) == [mailing.pk]
    # Backing off: queued again only once the retry is overdue (its own task comes back at retry_at).
    Recipient.objects.filter(mailing=mailing).update(retry_at=later)
    Mailing.objects.filter(pk=mailing.pk).update(last_progress_at=later)
    assert sending.resume_mailings(now=later, enqueue=False) == []
    much_later = later + datetime.timedelta(seconds=settings.NEWSLETTER_TASK_SECONDS + 1)
    assert sending.resume_mailings(now=much_later, enqueue=False) == [mailing.pk]
