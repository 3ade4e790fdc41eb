"""Subscribers and mailings in the newsroom: search, filter, CSV import with consent, export, audit, reports."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from newsletter import sending
from newsletter.models import Mailing, MailingState, Notice, NoticeKind, Subscriber, SubscriberStatus
from tests.factories import IssueFactory, PlacementFactory, user_in_role

from .helpers import confirmed

pytestmark = pytest.mark.django_db


def import_file(client, content, source="Conference sign-up sheet"):
    upload = SimpleUploadedFile("list.csv", content, content_type="text/csv")
    return client.post("/admin/newsletter/subscriber/import/", {"file": upload, "source": source}, follow=True)


def test_csv_import_records_consent_and_asks_the_others_to_confirm(admin_client, superuser):
    confirmed("known@example.com")
    response = import_file(
        admin_client, b"Email,Consent\nyes@example.com,yes\nno@example.com,no\nKNOWN@example.com,yes\n"
    )
    assert response.status_code == 200
    assert "1 confirmed, 1 asked to confirm, 1 already known" in response.content.decode()
    yes, no = Subscriber.objects.get(email="yes@example.com"), Subscriber.objects.get(email="no@example.com")
    assert yes.status == SubscriberStatus.CONFIRMED
    assert yes.consent_source == "Import: Conference sign-up sheet (list.csv) (consent in file)"
    assert no.status == SubscriberStatus.PENDING and Notice.objects.get(subscriber=no).kind == NoticeKind.CONFIRM
    event = yes.events.get()
    assert event.actor == superuser and event.to_status == SubscriberStatus.CONFIRMED


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"email\nx@example.com\n", "needs the columns"),
        (b"email,consent\nok@example.com,yes\nnot-an-address,yes\n", "Line 3"),
        (b"email,consent\nok@example.com,maybe\n", "Line 2: consent must be yes or no"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_a_bad_file_imports_nothing_and_names_the_line(admin_client, content, error):
    response = import_file(admin_client, content)
    page = response.content.decode()
    assert "Nothing was imported" in page and error in page
    assert not Subscriber.objects.exists()


def test_export_search_filter_and_a_status_change_with_its_audit(admin_client, superuser):
    confirmed("a@example.com")
    Subscriber.objects.create(email="=cmd@example.com", status=SubscriberStatus.PENDING)
    page = admin_client.get("/admin/newsletter/subscriber/?status__exact=confirmed").content.decode()
    assert "a@example.com" in page and "=cmd@example.com" not in page
    assert "a@example.com" not in admin_client.get("/admin/newsletter/subscriber/?q=cmd").content.decode()
    ids = list(Subscriber.objects.values_list("pk", flat=True))
    export = admin_client.post("/admin/newsletter/subscriber/", {"action": "export_csv", "_selected_action": ids})
    text = export.content.decode()
    assert export["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == "email,status,consent_source,created_at,confirmed_at"
    assert "'=cmd@example.com" in text  # no formula runs in a spreadsheet
    subscriber = Subscriber.objects.get(email="a@example.com")
    admin_client.post(f"/admin/newsletter/subscriber/{subscriber.pk}/change/", {"status": "unsubscribed",
                      "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})  # fmt: skip
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert subscriber.events.first().actor == superuser


def test_editors_cannot_import_or_act_on_mailings(client):
    client.force_login(user_in_role("Editor"))
    assert client.get("/admin/newsletter/subscriber/import/").status_code == 403


def test_a_stalled_mailing_shows_as_stalled_in_the_publishing_report(admin_client, settings):
    confirmed("a@example.com")
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue)
    mailing = sending.start_mailing(issue=issue)  # no worker takes it
    page = admin_client.get("/admin/digest/publicationrun/report/").content.decode()
    assert "Mailings in progress (1)" in page and "Stalled" not in page
    Mailing.objects.filter(pk=mailing.pk).update(
        last_progress_at=timezone.now() - datetime.timedelta(seconds=settings.NEWSLETTER_STALLED_AFTER_SECONDS + 5)
    )
    page = admin_client.get("/admin/digest/publicationrun/report/").content.decode()
    assert "1 stalled" in page and "<strong>Stalled</strong> — not sent" in page
    # The issue's page shows it too, with a progress bar.
    issue_page = admin_client.get(f"/admin/digest/issue/{issue.pk}/change/").content.decode()
    assert "stalled" in issue_page and "<progress" in issue_page


def test_check_deploy_warns_when_production_sends_from_a_default_address(settings):
    from django.core.checks import run_checks

    settings.NEWSLETTER_FROM_EMAIL = "newsroom@localhost"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert {"newsletter.W001", "newsletter.W003", "newsletter.W005"} <= ids and "newsletter.W002" not in ids
    settings.NEWSLETTER_FROM_EMAIL = "Engineering @ Scale <digest@mail.engineering-at-scale.com>"
    settings.NEWSLETTER_POSTAL_ADDRESS = "1 Example Street"
    settings.NEWSLETTER_HASH_KEY = "a key of its own"
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert not {"newsletter.W001", "newsletter.W003", "newsletter.W005"} & ids


def test_an_issues_options_switch_its_mailing_off_and_set_its_subject(admin_client):
    from newsletter.models import IssueNewsletter

    confirmed("a@example.com")
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue)
    opened = admin_client.get(f"/admin/newsletter/issuenewsletter/issue/{issue.pk}/", follow=True)
    assert opened.status_code == 200
    options = IssueNewsletter.objects.get(issue=issue)
    refused = admin_client.post(f"/admin/newsletter/issuenewsletter/{options.pk}/change/",
                                {"enabled": "on", "subject": "Hi\r\nBcc: x@example.net", "preheader": ""})  # fmt: skip
    assert refused.status_code == 200 and "One line only." in refused.content.decode()
    admin_client.post(f"/admin/newsletter/issuenewsletter/{options.pk}/change/", {"subject": "A better subject"})
    options.refresh_from_db()
    assert not options.enabled and options.subject == "A better subject"
    sending.publication_step(None, issue)
    assert not Mailing.objects.exists()
    options.enabled = True
    options.save()
    sending.publication_step(None, issue)
    assert Mailing.objects.get().subject == "A better subject"


def test_the_mailing_list_costs_the_same_queries_for_one_mailing_or_many(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    confirmed("a@example.com", "b@example.com")

    def new_mailing():
        issue = IssueFactory(published=True)
        PlacementFactory(issue=issue)
        sending.start_mailing(issue=issue)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/newsletter/mailing/").status_code == 200
        return len(captured)

    new_mailing()
    one = queries()
    for _ in range(3):
        new_mailing()
    assert queries() == one


def test_publishers_manage_subscribers_and_mailings_editors_only_the_issues_options(client):
    publisher, editor = user_in_role("Publisher"), user_in_role("Editor")
    client.force_login(publisher)
    assert client.get("/admin/newsletter/subscriber/").status_code == 200
    assert client.get("/admin/newsletter/mailing/").status_code == 200
    client.force_login(editor)
    assert client.get("/admin/newsletter/subscriber/").status_code == 403
    assert client.get("/admin/newsletter/mailing/").status_code == 200
    issue = IssueFactory()
    assert client.get(f"/admin/newsletter/issuenewsletter/issue/{issue.pk}/", follow=True).status_code == 200
    assert client.post(f"/admin/newsletter/mailing/test/{issue.pk}/").status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "staff without a role", "Contributor", "Editor"])
def test_strangers_cannot_send_pause_cancel_import_export_or_erase(client, who, django_capture_on_commit_callbacks):
    from django.core import mail as django_mail

    from tests.factories import UserFactory

    subscriber = confirmed("a@example.com")[0]
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue)
    with django_capture_on_commit_callbacks(execute=False):
        mailing = sending.start_mailing(issue=issue)
    if who == "staff without a role":
        client.force_login(UserFactory(username="bare", is_staff=True, email="bare@example.com"))
    elif who != "anonymous":
        client.force_login(user_in_role(who))
    csv = SimpleUploadedFile("list.csv", b"email,consent\nnew@example.com,yes\n", content_type="text/csv")
    requests = [
        (f"/admin/newsletter/mailing/{mailing.pk}/do/pause/", {}),
        (f"/admin/newsletter/mailing/{mailing.pk}/do/cancel/", {}),
        (f"/admin/newsletter/mailing/test/{issue.pk}/", {}),
        (f"/admin/newsletter/mailing/again/{issue.pk}/", {}),
        ("/admin/newsletter/subscriber/import/", {"file": csv, "source": "x"}),
        ("/admin/newsletter/subscriber/", {"action": "erase_selected", "_selected_action": [subscriber.pk]}),
        ("/admin/newsletter/subscriber/", {"action": "export_csv", "_selected_action": [subscriber.pk]}),
    ]
    for url, data in requests:
        response = client.post(url, data)
        assert response.status_code in (302, 403), (who, url, response.status_code)
        if who == "anonymous":
            assert "/admin/login/" in response["Location"]
        assert not response.get("Content-Type", "").startswith("text/csv"), (who, url)
    mailing.refresh_from_db()
    assert mailing.state == MailingState.SENDING and Mailing.objects.count() == 1
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["a@example.com"]
    assert django_mail.outbox == []


@pytest.mark.parametrize("object_id", ["%00", "abc", "1.5", "99999999999999999999"])
def test_a_mailing_address_naming_no_mailing_says_so_never_a_5xx(admin_client, object_id):
    response = admin_client.get(f"/admin/newsletter/mailing/{object_id}/change/", follow=True)
    assert response.status_code in (200, 404)  # the admin's own "does not exist", or Not Found
    assert response.status_code == 404 or b"exist" in response.content
