"""The subscribe form: no cookie, no enumeration, a honeypot, rate limits, no header injection."""

import time

import pytest
from django.core.cache import cache

from newsletter.models import Notice, Subscriber, SubscriberStatus

pytestmark = pytest.mark.django_db


def post(client, email, capture, **extra):
    with capture(execute=True):
        return client.post("/subscribe/", {"email": email, "website": "", **extra}, REMOTE_ADDR="10.0.0.1")


@pytest.fixture
def known_addresses():
    for status in SubscriberStatus:
        Subscriber.objects.create(email=f"{status}@example.com", status=status)
    return [f"{status}@example.com" for status in SubscriberStatus]


def test_the_answer_is_the_same_for_every_address_state(
    client, smtp, settings, known_addresses, django_capture_on_commit_callbacks
):
    settings.NEWSLETTER_SUBSCRIBES_PER_HOUR = 1000
    addresses = ["new@example.com", *known_addresses]
    answers = {}
    for address in addresses:
        response = post(client, address, django_capture_on_commit_callbacks)
        answers[address] = (response.status_code, response.content, sorted(response.headers.items()), response.cookies)
    first = answers["new@example.com"]
    assert first[0] == 200 and not first[3]
    for address, answer in answers.items():
        assert answer == first, address
    # Only the new, pending and unsubscribed addresses are asked to confirm; nothing else is sent.
    assert sorted(smtp.recipients()) == ["new@example.com", "pending@example.com", "unsubscribed@example.com"]


def test_the_answer_takes_the_same_time_for_every_address_state(
    client, settings, known_addresses, django_capture_on_commit_callbacks
):
    """The fastest of a few requests per state, within a few milliseconds of each other (no timing oracle).

    The confirmation request is sent by a worker after the commit, never in the request, so
    the callbacks queued by the commit are not run here, as in production.
    """
    settings.NEWSLETTER_SUBSCRIBES_PER_HOUR = 1000
    addresses = ["fresh@example.com", *known_addresses]
    times = {address: [] for address in addresses}
    # The states take turns, and the fastest of each is compared: a burst of other work on a
    # busy machine slows some requests of every state alike, never one state's every request.
    for _ in range(15):
        for address in addresses:
            started = time.perf_counter()
            with django_capture_on_commit_callbacks(execute=False):
                client.post("/subscribe/", {"email": address, "website": ""}, REMOTE_ADDR="10.0.0.1")
            times[address].append(time.perf_counter() - started)
    fastest = {address: min(taken) for address, taken in times.items()}
    assert max(fastest.values()) - min(fastest.values()) < 0.015, fastest


def test_the_honeypot_catches_bots_with_the_same_answer(client, smtp, django_capture_on_commit_callbacks):
    human = post(client, "human@example.com", django_capture_on_commit_callbacks)
    bot = post(client, "bot@example.com", django_capture_on_commit_callbacks, website="http://spam.example")
    assert bot.status_code == human.status_code == 200 and bot.content == human.content
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["human@example.com"]


def test_rate_limits_per_client_and_per_address(client, smtp, settings, django_capture_on_commit_callbacks):
    settings.NEWSLETTER_SUBSCRIBES_PER_HOUR = 5
    for _ in range(5):
        assert post(client, "same@example.com", django_capture_on_commit_callbacks).status_code == 200
    # Per address: at most NEWSLETTER_NOTICES_PER_DAY confirmation requests a day.
    assert smtp.recipients() == ["same@example.com"] * settings.NEWSLETTER_NOTICES_PER_DAY
    assert Notice.objects.count() == settings.NEWSLETTER_NOTICES_PER_DAY
    # Per client: the sixth request in the hour is refused, whatever the address.
    refused = post(client, "other@example.com", django_capture_on_commit_callbacks)
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert not Subscriber.objects.filter(email="other@example.com").exists()
    # Another client is not affected.
    with django_capture_on_commit_callbacks(execute=True):
        other = client.post("/subscribe/", {"email": "other@example.com"}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 200
    cache.clear()


@pytest.mark.parametrize(
    "email",
    [
        "victim@example.com\r\nBcc: everyone@example.net",
        "victim@example.com\nSubject: hi",
        "victim@example.com, second@example.net",
        '"a\r\nb"@example.com',
        "x" * 300 + "@example.com",
    ],
)
def test_header_injection_through_the_address_is_refused(client, smtp, email, django_capture_on_commit_callbacks):
    response = post(client, email, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not Subscriber.objects.exists() and smtp.recipients() == []


def test_cached_pages_carry_the_form_and_still_set_no_cookie(client, reader_pages):
    for path in (reader_pages["home"], reader_pages["issue"], reader_pages["archive"]):
        cold = client.get(path)
        warm = client.get(path)
        assert cold.status_code == warm.status_code == 200
        assert not cold.cookies and not warm.cookies and "Set-Cookie" not in warm.headers
        page = warm.content.decode()
        assert '<form class="subscribe-form" method="post" action="/subscribe/">' in page
        assert "csrfmiddlewaretoken" not in page
    assert warm.get("ETag") == cold.get("ETag")
