"""The live preview of a story's summary: who may ask, how much, and that it is the site's sanitised HTML."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from stories.models import SUMMARY_MAX_LENGTH
from stories.rendering import ALLOWED_TAGS, render_markdown
from tests.factories import UserFactory, user_in_role
from tests.xss_corpus import PAYLOADS, packed

pytestmark = pytest.mark.django_db

URL = "/admin/stories/story/markdown-preview/"


def preview(client, text, **extra):
    return client.post(URL, data=text.encode(), content_type="text/plain; charset=utf-8", **extra)


@pytest.fixture
def contributor_client(client):
    client.force_login(user_in_role("Contributor"))
    return client


def test_the_endpoint_is_named_and_the_summary_field_points_at_it(contributor_client):
    assert reverse("admin:stories_story_markdown_preview") == URL
    page = contributor_client.get(reverse("admin:stories_story_add")).content.decode()
    assert f'data-markdown-preview="{URL}"' in page
    assert "newsroom/markdown-preview.js" in page
    assert "newsroom/unsaved-changes.js" in page  # the story's own Media keeps the version lock's script


def test_a_writer_gets_the_summary_rendered_as_a_save_would(contributor_client):
    text = "Routing keys now travel in **headers**.\n\n### Why\n\n- [post](https://example.com/a)"
    response = preview(contributor_client, text)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"html": render_markdown(text), "problems": []}
    assert "<strong>headers</strong>" in response.json()["html"]


def test_what_a_save_would_refuse_is_said_beside_the_preview(contributor_client):
    answer = preview(contributor_client, "## A section heading\n\ntext").json()
    assert answer["problems"] == [
        "Use ### or smaller for headings here: # and ## are reserved for sections and stories."
    ]


class ElementsSeen(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.links = set(), set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        self.links += [value for name, value in attrs if name == "href"]


def test_every_payload_of_the_xss_corpus_comes_back_sanitised(contributor_client):
    seen = ElementsSeen()
    for text in packed(PAYLOADS, SUMMARY_MAX_LENGTH, separator="\n\n"):
        html = preview(contributor_client, text).json()["html"]
        assert html == render_markdown(text)
        assert "__xss(" in html  # the payloads are there, as text
        seen.feed(html)
    assert seen.tags <= ALLOWED_TAGS and "script" not in seen.tags
    assert seen.attributes <= {"href", "title", "rel"}
    assert seen.links and all(link.startswith(("https://", "http://", "mailto:")) for link in seen.links)


def test_a_summary_longer_than_a_story_may_hold_is_refused_before_rendering(contributor_client):
    assert preview(contributor_client, "x" * SUMMARY_MAX_LENGTH).status_code == 200
    too_long = preview(contributor_client, "x" * (SUMMARY_MAX_LENGTH + 1))
    assert too_long.status_code == 413
    assert "at most 10,000 characters" in too_long.json()["error"]
    # A body announced larger than any summary is refused without being read.
    huge = preview(contributor_client, "é" * SUMMARY_MAX_LENGTH + "x" * (2 * SUMMARY_MAX_LENGTH + 1))
    assert huge.status_code == 413


def test_bytes_that_are_not_utf8_are_a_bad_request(contributor_client):
    response = contributor_client.post(URL, data=b"\xff\xfe", content_type="text/plain")
    assert response.status_code == 400


def test_a_preview_touches_no_table_but_the_session_and_user(contributor_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # session, user, and the user's permissions
        assert preview(contributor_client, "*cheap*").status_code == 200


def test_only_post_with_a_csrf_token_is_answered():
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_in_role("Contributor"))
    assert client.get(URL).status_code == 405
    assert preview(client, "text").status_code == 403
    client.get(reverse("admin:stories_story_add"))
    token = client.cookies["csrftoken"].value
    assert preview(client, "text", HTTP_X_CSRFTOKEN=token).status_code == 200


def test_anyone_outside_the_newsroom_is_sent_to_log_in(client):
    assert preview(client, "text")["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(username="reader", is_staff=False))
    assert preview(client, "text")["Location"].startswith("/admin/login/")


def test_staff_who_may_not_write_stories_are_refused(client):
    client.force_login(UserFactory(username="auditor", is_staff=True))
    response = preview(client, "text")
    assert response.status_code == 403
    assert "Your role may not write stories" in response.content.decode()
