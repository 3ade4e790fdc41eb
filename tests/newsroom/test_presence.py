"""Who else has a story or an issue open: the heartbeat endpoint and the change page."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from newsroom import presence
from tests.factories import IssueFactory, StoryFactory, UserFactory, user_in_role

pytestmark = pytest.mark.django_db

OPENED = datetime.datetime(2026, 5, 4, 14, 2, tzinfo=datetime.UTC)


def logged_in(user, **options):
    client = Client(**options)
    client.force_login(user)
    return client


def beat_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_presence", args=[obj.pk])


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def names(response):
    return [other["name"] for other in response.json()["others"]]


@pytest.mark.parametrize("factory", [StoryFactory, IssueFactory])
def test_a_second_editor_sees_who_has_it_open_and_since_when(factory):
    obj = factory()
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    with freeze_time(OPENED):
        page = alice.get(change_url(obj))
        assert "has been editing this" not in page.content.decode()  # alone on the page
    with freeze_time(OPENED + datetime.timedelta(minutes=1)):
        page = bob.get(change_url(obj))
    assert "alice has been editing this since 14:02" in page.content.decode()
    assert 'src="/static/newsroom/presence.js"' in page.content.decode()
    with freeze_time(OPENED + datetime.timedelta(minutes=1, seconds=30)):
        answer = alice.post(beat_url(obj))
    assert answer.status_code == 200
    assert answer.json() == {"others": [{"name": "bob", "since": "14:03"}]}


def test_someone_who_stopped_beating_is_gone_after_ninety_seconds():
    story = StoryFactory()
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    with freeze_time(OPENED):
        alice.post(beat_url(story))
    with freeze_time(OPENED + datetime.timedelta(seconds=60)):
        assert names(bob.post(beat_url(story))) == ["alice"]
    with freeze_time(OPENED + datetime.timedelta(seconds=89)):
        alice.post(beat_url(story))  # still there: her "since" stays the first beat
    with freeze_time(OPENED + datetime.timedelta(seconds=170)):
        assert bob.post(beat_url(story)).json()["others"][0]["since"] == "14:02"
    with freeze_time(OPENED + datetime.timedelta(seconds=180)):
        assert names(bob.post(beat_url(story))) == []


def test_the_entry_kept_for_an_object_is_bounded():
    story = StoryFactory()
    with freeze_time(OPENED) as clock:
        for number in range(presence.MAX_PRESENT + 5):
            logged_in(UserFactory(username=f"editor{number}", is_staff=True, is_superuser=True)).post(beat_url(story))
            clock.tick(1)
        last = logged_in(user_in_role("Editor", username="last"))
        others = names(last.post(beat_url(story)))
    # The most recent are kept: the newest beat and the ones just before it.
    assert len(others) == presence.MAX_PRESENT - 1
    assert "editor24" in others and "editor0" not in others


def test_the_endpoint_is_for_staff_who_may_view_the_object_and_needs_csrf():
    story = StoryFactory()
    assert Client().post(beat_url(story)).status_code == 302  # to the login page
    outsider = logged_in(UserFactory(username="outsider", is_staff=True))  # staff, no permission
    assert outsider.post(beat_url(story)).status_code == 403
    contributor = user_in_role("Contributor", username="carol")
    assert logged_in(contributor).get(beat_url(story)).status_code == 405
    assert logged_in(contributor, enforce_csrf_checks=True).post(beat_url(story)).status_code == 403
    assert logged_in(contributor).post(beat_url(story)).status_code == 200
    editor = logged_in(user_in_role("Editor", username="dave"))
    assert names(editor.post(beat_url(story))) == ["carol"]
    # Refused requests left no trace.
    assert "outsider" not in names(editor.post(beat_url(story)))
    assert (
        logged_in(contributor).post(reverse("admin:stories_story_presence", args=[story.pk + 1000])).status_code == 404
    )


def test_a_page_left_says_so_and_its_editor_is_gone_at_once():
    story = StoryFactory()
    alice = logged_in(user_in_role("Editor", username="alice"), enforce_csrf_checks=True)
    bob = logged_in(user_in_role("Editor", username="bob"))
    page = alice.get(change_url(story))
    token = page.context["csrf_token"]
    assert alice.post(beat_url(story), {"csrfmiddlewaretoken": str(token)}).status_code == 200
    assert names(bob.post(beat_url(story))) == ["alice"]
    assert alice.post(beat_url(story), {"csrfmiddlewaretoken": str(token), "leaving": "1"}).status_code == 200
    assert names(bob.post(beat_url(story))) == []


def test_with_the_cache_down_the_page_works_and_shows_nobody(settings, caplog):
    """Presence is a courtesy: a cache outage must not cost an editor the change page."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    story = StoryFactory()
    client = logged_in(user_in_role("Editor", "bob"))
    page = client.get(change_url(story))
    assert page.status_code == 200
    assert "has been editing this" not in page.content.decode()
    assert client.post(beat_url(story)).json() == {"others": []}
    assert "Presence unavailable" in caplog.text
