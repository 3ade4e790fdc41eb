"""A refused save shows their version and yours field by field, and saves the choices made there."""

import re

import pytest
from django.urls import reverse

from digest.models import IssueState
from tests.admin_forms import change_form_data
from tests.factories import CompanyFactory, SourceFactory, StoryFactory, issue_with_stories, user_in_role
from tests.newsroom.clients import logged_in

pytestmark = pytest.mark.django_db


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def conflict_rows(response):
    """{field name: (theirs, yours)} as the conflict table shows them."""
    html = response.content.decode()
    rows = re.findall(
        r'<tr class="conflict-field" data-field="(\w+)">.*?conflict-theirs">(.*?)</div>.*?conflict-yours">(.*?)</div>',
        html,
        re.S,
    )
    return {name: (_text(theirs), _text(yours)) for name, theirs, yours in rows}


def _text(html):
    return re.sub(r"</?mark>", "", html)


def test_a_refused_story_save_lists_each_differing_field_and_saves_the_choices():
    story = StoryFactory(title="Opened title", summary="Opened summary", slug="opened")
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    alices_page = alice.get(change_url(story))
    bobs_page = bob.get(change_url(story))
    bob.post(change_url(story), change_form_data(bobs_page, title="Bob's title", summary="Bob's summary"))

    refused = alice.post(
        change_url(story), change_form_data(alices_page, title="Alice's title", summary="Alice's summary")
    )
    assert refused.status_code == 200
    assert "bob saved this story" in refused.content.decode()
    assert conflict_rows(refused) == {
        "title": ("Bob&#x27;s title", "Alice&#x27;s title"),
        "summary": ("Bob&#x27;s summary", "Alice&#x27;s summary"),
    }  # the slug, the same in both, is not listed
    assert "Save with my choices" in refused.content.decode()
    assert "yours differ from theirs" not in refused.content.decode()  # the sources are the same
    assert "bob has been editing this since" in refused.content.decode()

    choices = {"_conflict_title": "theirs", "_conflict_summary": "yours", "_save": "Save"}
    saved = alice.post(change_url(story), {**change_form_data(refused), **choices})
    assert saved.status_code == 302
    story.refresh_from_db()
    assert (story.title, story.summary, story.slug) == ("Bob's title", "Alice's summary", "opened")


def test_taking_theirs_for_every_field_keeps_their_version_including_lists():
    story = StoryFactory(title="Opened title")
    story.tags.set(["kafka"])
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    alices_page = alice.get(change_url(story))
    bobs_page = bob.get(change_url(story))
    bob.post(change_url(story), change_form_data(bobs_page, title="Bob's title", tags="kafka, queues"))

    refused = alice.post(change_url(story), change_form_data(alices_page, title="Alice's title", tags="streams"))
    rows = conflict_rows(refused)
    assert rows["tags"] == ("kafka, queues", "streams")
    choices = {f"_conflict_{name}": "theirs" for name in rows}
    assert alice.post(change_url(story), {**change_form_data(refused), **choices}).status_code == 302
    story.refresh_from_db()
    assert story.title == "Bob's title"
    assert sorted(tag.name for tag in story.tags.all()) == ["kafka", "queues"]


def test_keeping_yours_on_an_approved_issue_sends_it_back_to_review_and_a_workflow_button_waits():
    issue = issue_with_stories(state=IssueState.APPROVED, title="Opened title", week_in_review="Opened text")
    alice = logged_in(user_in_role("Publisher", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    alices_page = alice.get(change_url(issue))
    bobs_page = bob.get(change_url(issue))
    bob.post(change_url(issue), change_form_data(bobs_page, title="Bob's title"))
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW  # Bob's edit sent it back
    bob.post(
        reverse("admin:digest_issue_transition", args=[issue.pk, "approve"]), {"comment": "fine"}
    )  # and it is approved again
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED

    # Alice's workflow button with a stale form: refused, nothing moves, the differences are shown.
    refused = alice.post(
        change_url(issue),
        {
            **change_form_data(alices_page, week_in_review="Alice's text"),
            "_transition": "schedule",
            "_publish_at": "2099-01-01T09:00",
        },
    )
    assert refused.status_code == 200
    assert set(conflict_rows(refused)) == {"title", "week_in_review"}
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED

    choices = {"_conflict_title": "theirs", "_conflict_week_in_review": "yours", "_save": "Save"}
    data = {key: value for key, value in change_form_data(refused).items() if not key.startswith("_")}
    assert alice.post(change_url(issue), {**data, **choices}).status_code == 302
    issue.refresh_from_db()
    assert (issue.title, issue.week_in_review) == ("Bob's title", "Alice's text")
    assert issue.state == IssueState.IN_REVIEW  # approved content changed: back to review


def test_a_refused_company_save_shows_the_differences_too():
    company = CompanyFactory(name="Amazon", description="Opened")
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    alices_page = alice.get(change_url(company))
    bob.post(change_url(company), change_form_data(bob.get(change_url(company)), description="Bob's words"))
    refused = alice.post(change_url(company), change_form_data(alices_page, description="Alice's words"))
    assert conflict_rows(refused) == {"description": ("Bob&#x27;s words", "Alice&#x27;s words")}
    choices = {"_conflict_description": "yours", "_save": "Save"}
    assert alice.post(change_url(company), {**change_form_data(refused), **choices}).status_code == 302
    company.refresh_from_db()
    assert company.description == "Alice's words"


def test_the_words_that_differ_are_marked_on_each_side():
    story = StoryFactory(summary="Opened.")
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    alices_page = alice.get(change_url(story))
    bob.post(change_url(story), change_form_data(bob.get(change_url(story)), summary="The quick brown fox\nran."))
    refused = alice.post(change_url(story), change_form_data(alices_page, summary="The slow brown fox\nran."))
    html = refused.content.decode()
    assert 'conflict-theirs">The <mark>quick</mark> brown fox\nran.</div>' in html
    assert 'conflict-yours">The <mark>slow</mark> brown fox\nran.</div>' in html


def test_a_third_save_before_the_choices_are_saved_is_refused_again():
    story = StoryFactory(title="Opened title", summary="Opened summary")
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    carol = logged_in(user_in_role("Editor", username="carol"))
    alices_page = alice.get(change_url(story))
    bob.post(change_url(story), change_form_data(bob.get(change_url(story)), title="Bob's title"))
    refused = alice.post(change_url(story), change_form_data(alices_page, title="Alice's title"))
    carol.post(change_url(story), change_form_data(carol.get(change_url(story)), summary="Carol's summary"))

    again = alice.post(change_url(story), {**change_form_data(refused), "_conflict_title": "yours", "_save": "Save"})
    assert again.status_code == 200
    assert "carol saved this story" in again.content.decode()
    assert conflict_rows(again) == {
        "title": ("Bob's title".replace("'", "&#x27;"), "Alice&#x27;s title"),
        "summary": ("Carol&#x27;s summary", "Opened summary"),
    }
    story.refresh_from_db()
    assert (story.title, story.summary) == ("Bob's title", "Carol's summary")


def test_rows_below_the_form_that_differ_are_named():
    story = StoryFactory(title="Opened title")
    source = SourceFactory(story=story, title="Opened source")
    alice = logged_in(user_in_role("Editor", username="alice"))
    bob = logged_in(user_in_role("Editor", username="bob"))
    alices_page = alice.get(change_url(story))
    bobs_page = bob.get(change_url(story))
    prefix = next(key for key, value in change_form_data(bobs_page).items() if value == "Opened source")
    bob.post(change_url(story), change_form_data(bobs_page, **{prefix: "Bob's source"}))
    refused = alice.post(change_url(story), change_form_data(alices_page, title="Alice's title"))
    assert "Sources: yours differ from theirs" in refused.content.decode()
    source.refresh_from_db()
    assert source.title == "Bob's source"
