"""Every intake view refuses whoever may not use it, answers no 5xx to the largest input, and changes nothing then."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from intake.models import Candidate, CandidateState, Feed
from stories.models import Story
from tests.factories import CandidateFactory, UserFactory, user_in_role

pytestmark = pytest.mark.django_db

HUGE = "x" * 2_000_000


def requests(candidate):
    inbox, opml = reverse("admin:intake_candidate_changelist"), SimpleUploadedFile("a.opml", b"<opml>" + HUGE.encode())
    return [
        ("post", reverse("admin:intake_candidate_make_story", args=[candidate.pk]), {}),
        ("post", reverse("admin:intake_candidate_dismiss", args=[candidate.pk]), {"next": HUGE}),
        ("post", reverse("admin:intake_candidate_keep", args=[candidate.pk]), {}),
        ("post", inbox, {"action": "dismiss_selected", "_selected_action": [candidate.pk]}),
        ("post", reverse("admin:intake_candidate_add"), {"url": "https://example.com/" + HUGE, "title": HUGE}),
        ("post", reverse("admin:intake_feed_import_opml"), {"file": opml}),
        ("post", reverse("admin:intake_feed_add"), {"url": "https://example.com/" + HUGE, "interval": HUGE}),
        ("get", inbox + "?q=" + "x" * 5000 + "&week=9999-99-99_1&company=x&feed=1e9", {}),
    ]  # fmt: skip


@pytest.mark.parametrize("who", ["anonymous", "staff without a role", "Contributor"])
def test_strangers_are_refused_and_nothing_changes(who):
    candidate = CandidateFactory()
    client = Client()
    if who == "staff without a role":
        client.force_login(UserFactory(username="norole", is_staff=True))
    elif who == "Contributor":
        client.force_login(user_in_role("Contributor"))
    for method, url, data in requests(candidate):
        if who == "Contributor" and "/candidate/" in url:
            continue  # contributors triage the inbox (test_inbox.py); feeds are editors' work
        response = getattr(client, method)(url, data)
        assert response.status_code in (302, 400, 403), (url[:80], response.status_code)  # 400: body too large
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url[:80]
    assert Candidate.objects.get().state == CandidateState.NEW
    assert not Story.objects.exists() and Feed.objects.count() == 1


def test_the_largest_inputs_get_a_clear_answer_never_a_5xx(admin_client):
    candidate = CandidateFactory()
    for method, url, data in requests(candidate)[1:]:
        response = getattr(admin_client, method)(url, data)
        assert response.status_code < 500, (url[:80], response.status_code)
    assert Feed.objects.count() == 1 and not Candidate.objects.exclude(pk=candidate.pk).exists()
