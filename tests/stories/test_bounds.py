"""Nothing typed into a story holds a web worker: lengths and counts are checked first."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from taggit.models import Tag

from stories.models import MAX_TAGS_PER_STORY, Story
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

# Far below the minute these took before the bounds; generous for a busy CI machine.
PROMPT_SECONDS = 5


def add_story(admin_client, **overrides):
    data = {
        "title": "A story",
        "slug": "a-story",
        "summary": "Summary",
        "tags": "kafka, envoy",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
        "sources-MIN_NUM_FORMS": "0",
        "sources-MAX_NUM_FORMS": "1000",
        **overrides,
    }
    started = time.monotonic()
    response = admin_client.post(reverse("admin:stories_story_add"), data)
    return response, time.monotonic() - started


def test_ten_thousand_tags_are_refused_at_once_and_none_is_created(admin_client):
    response, seconds = add_story(admin_client, tags=", ".join(f"tag-{number}" for number in range(10_000)))
    assert response.status_code == 200
    assert f"at most {MAX_TAGS_PER_STORY} tags" in response.content.decode()
    assert seconds < PROMPT_SECONDS
    assert not Tag.objects.exists() and not Story.objects.exists()


def test_too_many_short_tags_are_refused_too(admin_client):
    response, _ = add_story(admin_client, tags=",".join("abcdefghijklmnopqrstuvwxyz"))
    assert f"at most {MAX_TAGS_PER_STORY} tags" in response.content.decode()
    assert not Tag.objects.exists() and not Story.objects.exists()


def test_a_story_may_have_as_many_tags_as_the_cap(admin_client):
    tags = [f"tag-{number}" for number in range(MAX_TAGS_PER_STORY)]
    response, _ = add_story(admin_client, tags=", ".join(tags))
    assert response.status_code == 302
    assert sorted(Story.objects.get().tags.names()) == sorted(tags)


def test_a_tag_over_100_characters_is_a_form_error(admin_client):
    response, _ = add_story(admin_client, tags=f"kafka, {'x' * 101}")
    assert response.status_code == 200
    assert "A tag has at most 100 characters" in response.content.decode()
    assert not Tag.objects.exists() and not Story.objects.exists()


def test_a_two_megabyte_summary_is_refused_by_its_length_at_once(admin_client):
    # A list of 500,000 items: the slowest kind of Markdown for the heading check to parse.
    summary = "- a\n" * 500_000 + "The end."
    response, seconds = add_story(admin_client, summary=summary)
    assert response.status_code == 200
    assert f"Ensure this value has at most 10000 characters (it has {len(summary)})." in response.content.decode()
    assert seconds < PROMPT_SECONDS
    assert not Story.objects.exists()


def test_a_long_issue_text_is_refused_by_its_length_at_once():
    issue = IssueFactory.build(week_in_review="[" * 1_000_000)  # unclosed links: slow to parse
    started = time.monotonic()
    with pytest.raises(ValidationError) as refused:
        issue.full_clean()
    assert time.monotonic() - started < PROMPT_SECONDS
    assert refused.value.message_dict["week_in_review"] == [
        "Ensure this value has at most 20000 characters (it has 1000000)."
    ]
