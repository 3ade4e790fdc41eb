"""Reviewers hear when an issue is sent to review; its editor hears when changes are requested."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.test import Client
from django.urls import reverse

from digest import workflow
from digest.models import IssueState
from newsroom import notifications
from newsroom.models import NewsroomMail
from newsroom.tasks import send_newsroom_mail
from tests.factories import UserFactory, issue_with_stories, user_in_role
from tests.smtp_sink import SMTPSink

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://cms.example.org"


def recipients(outbox):
    return sorted(address for message in outbox for address in message.to)


def test_sending_to_review_mails_every_reviewer_but_the_sender(mailoutbox, django_capture_on_commit_callbacks):
    sender = user_in_role("Editor", "ed")
    user_in_role("Editor", "eve")
    user_in_role("Publisher", "pat")
    user_in_role("Contributor", "carol")  # may not review
    UserFactory(username="root", is_superuser=True, is_staff=True)
    UserFactory(username="gone", is_superuser=True, is_active=False)
    issue = issue_with_stories(title="Caches & <queues>")

    with django_capture_on_commit_callbacks() as callbacks:
        workflow.send_to_review(issue=issue, by=sender, comment='Ready — "finally" & done')
        assert mailoutbox == []  # nothing leaves before the transition commits
    for callback in callbacks:
        callback()

    assert recipients(mailoutbox) == ["eve@example.com", "pat@example.com", "root@example.com"]
    message = mailoutbox[0]
    assert message.subject == f"Issue #{issue.number} “Caches & <queues>” is waiting for your review"
    assert message.body == (
        f"ed sent issue #{issue.number} “Caches & <queues>” to review.\n\n"
        'Their comment:\nReady — "finally" & done\n\n'
        f"Open the issue:\nhttps://cms.example.org/admin/digest/issue/{issue.pk}/change/\n"
    )
    assert message.content_subtype == "plain"


def test_requesting_changes_mails_the_editor_who_last_sent_it(mailoutbox, django_capture_on_commit_callbacks):
    first, second, reviewer = user_in_role("Editor", "ed"), user_in_role("Editor", "eve"), user_in_role("Editor", "rex")
    issue = issue_with_stories()
    workflow.send_to_review(issue=issue, by=first)
    workflow.request_changes(issue=issue, by=reviewer, comment="Shorter, please")
    workflow.send_to_review(issue=issue, by=second)
    NewsroomMail.objects.all().delete()  # those transitions' mail: not what this test is about

    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_changes(issue=issue, by=reviewer, comment="Still too long & <b>wordy</b>")

    assert recipients(mailoutbox) == ["eve@example.com"]
    message = mailoutbox[0]
    assert message.subject == f"Changes requested on issue #{issue.number} “{issue.title}”"
    assert "rex requested changes to issue" in message.body and "it is a draft again." in message.body
    assert "Still too long & <b>wordy</b>" in message.body
    assert f"https://cms.example.org/admin/digest/issue/{issue.pk}/change/" in message.body


def test_no_mail_to_oneself(mailoutbox, django_capture_on_commit_callbacks):
    editor = user_in_role("Editor", "ed")
    issue = issue_with_stories()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.send_to_review(issue=issue, by=editor)
        workflow.request_changes(issue=issue, by=editor, comment="Changed my mind")
    assert mailoutbox == []


def test_the_admin_button_sends_the_mail(mailoutbox, django_capture_on_commit_callbacks):
    user_in_role("Editor", "eve")
    client = Client()
    client.force_login(user_in_role("Editor", "ed"))
    issue = issue_with_stories()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:digest_issue_transition", args=[issue.pk, "send_to_review"]))
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW
    assert recipients(mailoutbox) == ["eve@example.com"]


def test_a_mail_server_that_refuses_delays_the_mail_but_never_loses_it(
    settings, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    """The reported gap: a transition while the mail server was down lost its notice for good."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there
    user_in_role("Editor", "eve")
    client = Client()
    client.force_login(user_in_role("Editor", "ed"))
    issue = issue_with_stories()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:digest_issue_transition", args=[issue.pk, "send_to_review"]))
    assert response.status_code == 302  # the transition is not undone, nor an error page
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW
    assert "Could not reach the mail server" in caplog.text

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    send_newsroom_mail()  # the beat's next minute
    assert recipients(mailoutbox) == ["eve@example.com"]
    assert "is waiting for your review" in mailoutbox[0].subject
    send_newsroom_mail()
    assert len(mailoutbox) == 1  # sent once


def test_a_mail_that_keeps_being_refused_stops_being_tried_and_waits_in_the_admin(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    mail = NewsroomMail.objects.create(
        to="eve@example.com", subject="Issue #7 is waiting", body="…", attempts=notifications.MAX_ATTEMPTS - 1
    )
    with SMTPSink(refuse=["eve@example.com"]) as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        send_newsroom_mail()
    mail.refresh_from_db()
    assert mail.attempts == notifications.MAX_ATTEMPTS and "SMTPRecipientsRefused" in mail.last_error
    with SMTPSink() as sink:
        settings.EMAIL_PORT = sink.port
        send_newsroom_mail()
    assert sink.messages == [] and NewsroomMail.objects.filter(pk=mail.pk).exists()

    root = Client()
    root.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    listing = root.get(reverse("admin:newsroom_newsroommail_changelist")).content.decode()
    assert "eve@example.com" in listing and "SMTPRecipientsRefused" in listing
    editor = Client()
    editor.force_login(user_in_role("Editor", "ed"))
    assert editor.get(reverse("admin:newsroom_newsroommail_changelist")).status_code == 403
    retry = {"action": "try_again", "_selected_action": [mail.pk]}
    assert editor.post(reverse("admin:newsroom_newsroommail_changelist"), retry).status_code == 403
    mail.refresh_from_db()
    assert mail.attempts == notifications.MAX_ATTEMPTS  # an editor cannot put it back in the outbox

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the address was fixed
    with django_capture_on_commit_callbacks(execute=True):
        root.post(
            reverse("admin:newsroom_newsroommail_changelist"), {"action": "try_again", "_selected_action": [mail.pk]}
        )
    assert recipients(mailoutbox) == ["eve@example.com"] and not NewsroomMail.objects.exists()


def unreachable(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens there


def outbox(*addresses):
    return [NewsroomMail.objects.create(to=address, subject=f"For {address}", body="…") for address in addresses]


def test_an_outage_charges_no_mail_however_long_it_lasts(settings):
    """A reviewer's find: every try during an outage counted against each mail, so after 30 they were dropped."""
    unreachable(settings)
    [mail] = outbox("eve@example.com")
    for _ in range(notifications.MAX_ATTEMPTS + 5):  # the beat's minutes, and every transition's wake
        send_newsroom_mail()
    mail.refresh_from_db()
    assert mail.attempts == 0
    with SMTPSink() as sink:
        settings.EMAIL_PORT = sink.port
        send_newsroom_mail()
    assert [message["To"] for message in sink.messages] == ["eve@example.com"]
    assert not NewsroomMail.objects.exists()


def test_a_refused_address_is_charged_and_holds_back_nobody(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    outbox("gone@example.com", "eve@example.com", "rex@example.com")
    with SMTPSink(refuse=["gone@example.com"]) as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        send_newsroom_mail()
    assert sorted(message["To"] for message in sink.messages) == ["eve@example.com", "rex@example.com"]
    [refused] = NewsroomMail.objects.all()
    assert refused.to == "gone@example.com" and refused.attempts == 1 and "550" in refused.last_error


def test_each_mail_is_marked_as_it_goes_so_a_stopped_worker_resends_none_of_the_sent(monkeypatch, mailoutbox):
    """A reviewer's find: the whole batch was one transaction, so a worker stopped midway sent it all again."""
    outbox("a@example.com", "b@example.com", "c@example.com")

    class TimeRunsOutAtC(notifications.EmailMessage):
        def send(self, *args, **kwargs):
            if self.to == ["c@example.com"]:
                raise SoftTimeLimitExceeded()
            return super().send(*args, **kwargs)

    monkeypatch.setattr(notifications, "EmailMessage", TimeRunsOutAtC)
    with pytest.raises(SoftTimeLimitExceeded):
        notifications.send_pending()
    assert recipients(mailoutbox) == ["a@example.com", "b@example.com"]
    [left] = NewsroomMail.objects.all()
    assert left.to == "c@example.com" and left.attempts == 0  # neither sent nor charged: the next try sends it
