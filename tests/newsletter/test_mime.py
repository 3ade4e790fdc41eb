"""The message serialised once per mailing: each recipient gets what Django would have built for them."""

import email
import email.policy
import re

import pytest

from bench.pdf import demo_issue
from newsletter import sending
from newsletter.message import UNSUBSCRIBE_PLACEHOLDER, personalise, render_issue_message, unsubscribe_url
from newsletter.mime import PreparedMessage
from newsletter.models import Mailing, Recipient, RecipientStatus
from newsletter.sending import build_message

from .helpers import confirmed, html_part, text_part

pytestmark = pytest.mark.django_db

TOKEN = "Pcwc4r22cBvq0qPxbV4F9E7l9GA2yo2H"


@pytest.fixture
def demo_mailing(settings):
    settings.SITE_URL = "https://digest.example.com"
    settings.NEWSLETTER_REPLY_TO = "editors@example.com"
    issue = demo_issue()
    rendered = render_issue_message(issue, subject="Engineering @ Scale — the week", preheader="In one line")
    return Mailing(issue=issue, subject=rendered.subject, html=rendered.html, text=rendered.text)


def long_lines(mailing):
    """The mailing with its lines joined past 998 bytes, the link inside one: Django quotes-printable them."""
    return Mailing(
        issue=mailing.issue,
        subject=mailing.subject,
        html=mailing.html.replace("\n", " "),
        text=mailing.text.replace("\n", " ", 40),
    )


def content(part):
    """A part's text as a receiver reads it (the wire's CRLF line ends as newlines)."""
    return part.replace("\r\n", "\n")


def what_may_differ(raw):
    """The boundary, the date and the Message-ID, which differ from one message to the next."""
    raw = re.sub(rb"===============\d+==", b"BOUNDARY", raw)
    raw = re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", raw)
    return re.sub(rb"\r\nMessage-ID: [^\r]*", b"\r\nMessage-ID: -", raw)


@pytest.mark.parametrize("shape", ["as rendered", "long lines"])
def test_the_prepared_bytes_are_djangos_for_that_recipient(demo_mailing, shape):
    mailing = demo_mailing if shape == "as rendered" else long_lines(demo_mailing)
    prepared = PreparedMessage(mailing, build_message, token_length=len(TOKEN))
    expected_encoding = "8bit" if shape == "as rendered" else "quoted-printable"
    assert [encoding for encoding, _ in prepared.parts] == [expected_encoding, expected_encoding]
    long_address = "a.much.longer.address.of.a.reader.whose.to.header.is.longer.than.a.line@example.co.uk"
    for address in ("reader@example.com", long_address, "o'brien+news@example.com"):
        raw = prepared.message_for(address, TOKEN)
        django = build_message(mailing, address, TOKEN).message().as_bytes(linesep="\r\n")
        assert what_may_differ(raw) == what_may_differ(django)
        # As a receiver reads it: the headers, and both parts with this recipient's link.
        received = email.message_from_bytes(raw, policy=email.policy.default)
        html, text = personalise(mailing, TOKEN)
        assert content(html_part(received)) == html and content(text_part(received)) == text
        assert unsubscribe_url(TOKEN) in html and UNSUBSCRIBE_PLACEHOLDER not in html + text
        assert received["To"] == address
        # Folded before the value, as Django's message is: unfolding leaves the leading space.
        assert received["List-Unsubscribe"].strip() == f"<{unsubscribe_url(TOKEN)}>"
        assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert received["Subject"] == "Engineering @ Scale — the week"
        assert received["Reply-To"] == "editors@example.com"
        assert received["Date"] and received["Message-ID"]
    assert prepared.message_for("reader@example.com", TOKEN + "x") is None  # another length: Django's way
    assert prepared.message_for("léa@example.com", TOKEN) is None  # Django encodes it


def test_a_subject_ending_like_the_internal_mark_is_still_text(demo_mailing):
    """A reviewer's find: a subject ending in the stand-in mark was taken for a per-recipient header (KeyError)."""
    mark = "@@prepared-header@@"
    mailing = Mailing(
        issue=demo_mailing.issue, subject=f"Weekly notes {mark}", html=demo_mailing.html, text=demo_mailing.text
    )
    prepared = PreparedMessage(mailing, build_message, token_length=len(TOKEN))
    raw = prepared.message_for("reader@example.com", TOKEN)
    django = build_message(mailing, "reader@example.com", TOKEN).message().as_bytes(linesep="\r\n")
    assert what_may_differ(raw) == what_may_differ(django)
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == f"Weekly notes {mark}"


def test_each_recipient_gets_their_own_link_date_and_message_id(demo_mailing):
    prepared = PreparedMessage(demo_mailing, build_message, token_length=len(TOKEN))
    first = email.message_from_bytes(prepared.message_for("a@example.com", "a" * 32), policy=email.policy.default)
    second = email.message_from_bytes(prepared.message_for("b@example.com", "b" * 32), policy=email.policy.default)
    assert unsubscribe_url("a" * 32) in html_part(first) and unsubscribe_url("b" * 32) in text_part(second)
    assert unsubscribe_url("a" * 32) not in html_part(second) + text_part(second)
    assert first["Message-ID"] != second["Message-ID"]


def test_a_mailing_over_smtp_sends_the_prepared_bytes_and_the_rest_django_builds(
    smtp, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://digest.example.com"
    issue = demo_issue()
    confirmed("reader1@example.com", "reader2@example.com", "zoë@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        mailing = sending.start_mailing(issue=issue)
    assert Recipient.objects.filter(mailing=mailing, status=RecipientStatus.SENT).count() == 3
    received = {message["To"]: message for message in smtp.messages()}
    assert set(received) == {"reader1@example.com", "reader2@example.com", "zoë@example.com"}
    for recipient in Recipient.objects.filter(mailing=mailing):
        message = received[recipient.email]
        html, text = personalise(mailing, recipient.token)
        assert content(html_part(message)) == html and content(text_part(message)) == text
        assert message["List-Unsubscribe"].strip() == f"<{unsubscribe_url(recipient.token)}>"
        assert message["Subject"].strip() == mailing.subject
    # The two ASCII addresses got the message prepared once (one boundary); zoë Django's own.
    boundaries = {address: message.get_boundary() for address, message in received.items()}
    assert boundaries["reader1@example.com"] == boundaries["reader2@example.com"] != boundaries["zoë@example.com"]
