"""Subscribe → confirm → publish → one message; one-click unsubscribe → none on the next issue.

Every message goes through a real SMTP server on loopback and is parsed back.
"""

import re
from urllib.parse import urlsplit

import pytest

from newsletter.models import Mailing, MailingState, Subscriber, SubscriberStatus

from .helpers import approved_issue, html_part, publish_and_mail, site_links, text_part

pytestmark = pytest.mark.django_db(transaction=False)


def confirmation_link(message):
    match = re.search(r"http://testserver(/subscribe/confirm/[^/\s]+/)", text_part(message))
    assert match, text_part(message)
    return match.group(1)


def test_subscribe_confirm_publish_unsubscribe(client, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/subscribe/", {"email": "Reader@Example.com", "website": ""})
    assert response.status_code == 200 and b"Check your inbox" in response.content
    assert not response.cookies

    # Double opt-in: a confirmation request, nothing else, and the address is not confirmed yet.
    [request] = smtp.messages()
    assert request["To"] == "reader@example.com"
    assert "Confirm your subscription" in request["Subject"]
    link = confirmation_link(request)
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING

    # A mail scanner following the link confirms nothing; the button does.
    assert client.get(link).status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    assert b"You are subscribed" in client.post(link).content
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED
    smtp.clear()

    issue = approved_issue()
    publish_and_mail(issue, django_capture_on_commit_callbacks)
    [message] = smtp.messages()
    assert smtp.recipients() == ["reader@example.com"]
    assert message["Subject"] == issue.title
    assert message["From"] == "newsroom@localhost"
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert re.fullmatch(r"<http://testserver/unsubscribe/[\w-]+/>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, text = html_part(message), text_part(message)
    for story in issue.placements.all():
        assert story.story.title in text
    assert "Read on the web: http://testserver" + issue.get_absolute_url() in text
    assert unsubscribe.strip("<>") in text and unsubscribe.strip("<>") in html
    assert 'style="' in html  # CSS inlined
    # Every link to the site resolves to a live page.
    links = site_links(html)
    assert issue.get_absolute_url() in links and f"/issues/{issue.slug}.pdf" in links
    for path in links:
        assert client.get(path).status_code == 200, path
    mailing = Mailing.objects.get(issue=issue)
    assert mailing.state == MailingState.COMPLETED

    # The mail client's one-click POST (RFC 8058) unsubscribes at once.
    response = client.post(urlsplit(unsubscribe.strip("<>")).path, "List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 200 and b"You are unsubscribed" in response.content
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED
    smtp.clear()
    publish_and_mail(approved_issue(), django_capture_on_commit_callbacks)
    assert smtp.messages() == []


def test_the_unsubscribe_page_never_unsubscribes_on_get_and_offers_to_resubscribe(client, db):
    subscriber = Subscriber.objects.create(email="a@example.com", status=SubscriberStatus.CONFIRMED)
    url = f"/unsubscribe/{subscriber.token}/"
    page = client.get(url)
    assert page.status_code == 200 and b"Unsubscribe a@example.com?" in page.content
    assert not page.cookies and "no-store" in page["Cache-Control"]
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    client.post(url)
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    page = client.get(url)
    assert b"Resubscribe" in page.content
    client.post(url + "resubscribe/")
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert [e.to_status for e in subscriber.events.order_by("id")] == ["unsubscribed", "confirmed"]
    assert client.get("/unsubscribe/not-a-token/").status_code == 404


def test_an_expired_or_forged_confirmation_link_confirms_nothing(client, db, settings):
    from newsletter.subscriptions import confirmation_link as link_for

    subscriber = Subscriber.objects.create(email="late@example.com")
    path = urlsplit(link_for(subscriber)).path
    forged = path.replace("/confirm/", "/confirm/x")
    assert client.post(forged).status_code == 400
    settings.NEWSLETTER_CONFIRM_MAX_AGE_SECONDS = -1
    response = client.post(path)
    assert response.status_code == 400 and b"expired" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING


@pytest.mark.parametrize("token", ["%00", "a%00b", "%E2%80%AE", "a%0Ab"])
@pytest.mark.parametrize("action", ["", "resubscribe/", "data/", "erase/"])
def test_a_mangled_unsubscribe_token_is_not_found_never_a_5xx(client, db, token, action):
    subscriber = Subscriber.objects.create(email="kept@example.com", status=SubscriberStatus.CONFIRMED)
    for method in ("get", "post"):
        response = getattr(client, method)(f"/unsubscribe/{token}/{action}")
        assert response.status_code in (404, 405), (method, response.status_code)
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED
