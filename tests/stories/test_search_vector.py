"""The stored search vector follows every change that affects what a story is found by."""

import pytest
from django.contrib.postgres.search import SearchQuery

from stories.models import Story
from stories.search_vector import SEARCH_CONFIG
from tests.factories import CompanyFactory, SourceFactory, StoryFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("postgresql"),  # stored tsvectors: skipped on SQLite, a failure in CI without PostgreSQL
]


def found(words):
    return set(
        Story.objects.filter(
            search_vector=SearchQuery(words, search_type="websearch", config=SEARCH_CONFIG)
        ).values_list("slug", flat=True)
    )


def test_new_story_is_found_by_title_summary_company_and_source():
    story = StoryFactory(slug="s", title="Cell-based architecture", summary="Blast radius limits.", companies=[])
    story.companies.add(CompanyFactory(name="Slack"))
    SourceFactory(story=story, title="How we built cells", publisher="Slack Engineering")
    for words in ("cell", "blast radius", "slack", "built"):
        assert found(words) == {"s"}, words


def test_editing_a_story_updates_its_vector():
    story = StoryFactory(slug="s", title="Old words")
    story.title = "Fresh phrasing"
    story.save()
    assert found("fresh") == {"s"} and found("old") == set()


def test_company_changes_reach_the_vector():
    company = CompanyFactory(name="Facebook")
    story = StoryFactory(slug="s", companies=[company])
    company.name = "Meta"
    company.save()
    assert found("meta") == {"s"} and found("facebook") == set()
    story.companies.remove(company)
    assert found("meta") == set()
    company.stories.add(story)
    assert found("meta") == {"s"}
    company.stories.clear()
    assert found("meta") == set()
    story.companies.add(company)
    company.delete()
    assert found("meta") == set()


def test_source_changes_reach_the_vector():
    story = StoryFactory(slug="s", sources=False)
    source = SourceFactory(story=story, title="Postmortem of the outage")
    assert found("postmortem") == {"s"}
    source.delete()
    assert found("postmortem") == set()
