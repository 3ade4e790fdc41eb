"""The newsroom in the admin: workflow buttons, conflicts, revisions, previews, corrections."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from digest.models import Correction, IssueEvent, IssueState
from stories.models import Story
from tests.admin_forms import change_form_data
from tests.factories import CompanyFactory, StoryFactory, issue_with_stories, user_in_role
from tests.newsroom.clients import change_url, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return logged_in(user_in_role("Editor"))


@pytest.fixture
def publisher():
    return logged_in(user_in_role("Publisher"))


def transition(client, issue, name, **data):
    return client.post(reverse("admin:digest_issue_transition", args=[issue.pk, name]), data, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# Workflow panel ---------------------------------------------------------------------------


def test_issue_page_shows_state_checklist_buttons_and_audit_log(editor):
    issue = issue_with_stories(top=0)
    html = editor.get(change_url(issue)).content.decode()
    assert "State: <strong" in html and ">Draft</strong>" in html
    assert "Add at least one top story." in html
    assert ">Send to review</button>" in html
    assert ">Publish now</button>" not in html  # editors do not publish
    assert "No workflow changes yet." in html


def test_buttons_move_the_issue_and_log_it(editor, publisher, django_capture_on_commit_callbacks):
    issue = issue_with_stories()
    response = transition(editor, issue, "send_to_review")
    assert "is now in review" in " ".join(messages_of(response))
    transition(editor, issue, "approve", comment="Looks good")
    with django_capture_on_commit_callbacks(execute=True):
        response = transition(publisher, issue, "publish")
    assert "queued for publication" in " ".join(messages_of(response))
    response = publisher.get(change_url(issue))
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED
    html = response.content.decode()
    assert "Looks good" in html and "publish" in html
    assert list(IssueEvent.objects.order_by("created_at").values_list("action", flat=True)) == [
        "send_to_review",
        "approve",
        "publish",
    ]


def test_forbidden_and_invalid_transitions_show_a_message_and_change_nothing(editor):
    issue = issue_with_stories()
    response = transition(editor, issue, "publish")
    assert "You may not publish now issues." in messages_of(response)
    response = transition(editor, issue, "approve")
    assert "applies only to in review issues" in " ".join(messages_of(response))
    response = transition(editor, issue, "nonsense")
    assert "Unknown workflow action." in messages_of(response)
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT and not IssueEvent.objects.exists()


def test_blocked_approval_lists_what_to_fix(editor):
    issue = issue_with_stories(state=IssueState.IN_REVIEW, week_in_review="")
    response = transition(editor, issue, "approve")
    assert "Write the Week in Review." in messages_of(response)
    issue.refresh_from_db()
    assert issue.state == IssueState.IN_REVIEW


def test_request_changes_needs_a_comment(editor):
    issue = issue_with_stories(state=IssueState.IN_REVIEW)
    response = transition(editor, issue, "request_changes", comment="")
    assert "needs a comment" in " ".join(messages_of(response))
    transition(editor, issue, "request_changes", comment="Tighten the second story")
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT
    assert IssueEvent.objects.get().comment == "Tighten the second story"


@freeze_time("2026-05-01 10:00:00")
def test_scheduling_reads_the_site_time_zone_and_refuses_the_past(publisher, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    issue = issue_with_stories(state=IssueState.APPROVED)
    html = publisher.get(change_url(issue)).content.decode()
    assert "Publish at (Europe/Berlin)" in html
    response = transition(publisher, issue, "schedule", publish_at="2026-05-01T11:30")  # 09:30 UTC: past
    assert "in the past" in " ".join(messages_of(response))
    transition(publisher, issue, "schedule", publish_at="2026-05-02T09:00")
    issue.refresh_from_db()
    assert issue.state == IssueState.SCHEDULED
    assert issue.publish_at == datetime.datetime(2026, 5, 2, 7, 0, tzinfo=datetime.UTC)
    response = transition(publisher, issue, "unschedule")
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED


def test_contributors_cannot_reach_workflow_actions():
    contributor = logged_in(user_in_role("Contributor"))
    issue = issue_with_stories()
    response = transition(contributor, issue, "send_to_review")
    assert "You may not send to review issues." in messages_of(response)
    issue.refresh_from_db()
    assert issue.state == IssueState.DRAFT


# Optimistic locking -----------------------------------------------------------------------


def test_second_save_of_a_story_is_refused_and_keeps_what_was_typed():
    alice, bob = user_in_role("Editor", "alice"), user_in_role("Editor", "bob")
    story = StoryFactory(title="Original")
    alice_client, bob_client = logged_in(alice), logged_in(bob)
    alice_page, bob_page = alice_client.get(change_url(story)), bob_client.get(change_url(story))

    response = alice_client.post(change_url(story), change_form_data(alice_page, title="Alice's title"))
    assert response.status_code == 302

    bob_data = change_form_data(bob_page, title="Bob's title", **{"sources-0-title": "Bob's source"})
    response = bob_client.post(change_url(story), bob_data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "alice saved this story at" in html
    assert 'value="Bob&#x27;s title"' in html and 'value="Bob&#x27;s source"' in html
    story.refresh_from_db()
    assert story.title == "Alice's title"
    assert story.sources.get().title != "Bob's source"

    # Saving again, deliberately, replaces Alice's version.
    response = bob_client.post(change_url(story), change_form_data(response, title="Bob's title"))
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.title == "Bob's title"


def test_second_save_of_an_issue_with_placements_is_refused(editor):
    other = logged_in(user_in_role("Editor", "other"))
    issue = issue_with_stories(top=2)
    first_page, second_page = editor.get(change_url(issue)), other.get(change_url(issue))
    assert (
        editor.post(change_url(issue), change_form_data(first_page, **{"placements-0-position": "5"})).status_code
        == 302
    )
    response = other.post(change_url(issue), change_form_data(second_page, **{"placements-1-position": "9"}))
    assert "editor saved this issue at" in response.content.decode()
    assert sorted(issue.placements.values_list("position", flat=True)) == [0, 1, 5]


def test_second_save_of_a_company_is_refused(editor):
    other = logged_in(user_in_role("Editor", "other"))
    company = CompanyFactory(name="Netflix")
    first_page, second_page = editor.get(change_url(company)), other.get(change_url(company))
    assert editor.post(change_url(company), change_form_data(first_page, description="First")).status_code == 302
    response = other.post(change_url(company), change_form_data(second_page, description="Second"))
    assert "editor saved this company at" in response.content.decode()
    company.refresh_from_db()
    assert company.description == "First"


# Revisions ----------------------------------------------------------------------------------


def test_history_shows_field_differences_and_restores_with_sources(editor):
    story = StoryFactory(title="First title")
    netflix = CompanyFactory(name="Netflix")
    original_companies = set(story.companies.all())
    page = editor.get(change_url(story))
    editor.post(
        change_url(story),
        change_form_data(page, title="Second title", companies=[str(netflix.pk)], **{"sources-0-title": "New source"}),
    )
    story.refresh_from_db()
    assert story.title == "Second title" and story.sources.get().title == "New source"
    assert list(story.companies.all()) == [netflix]

    history_url = reverse("admin:stories_story_history", args=[story.pk])
    html = editor.get(history_url).content.decode()
    assert "<strong>Title:</strong>" in html and "First title" in html and "Second title" in html
    assert "Restore this revision" in html
    first = story.history.filter(title="First title").latest()
    revisions = story.history.count()
    response = editor.post(reverse("admin:stories_story_restore", args=[story.pk, first.history_id]), follow=True)
    assert "Restored" in " ".join(messages_of(response))
    story.refresh_from_db()
    assert story.title == "First title"
    assert story.sources.get().title != "New source"
    assert set(story.companies.all()) == original_companies
    assert story.history.count() > revisions  # the restore is itself a revision
    assert story.history.latest().history_user.username == "editor"


def test_restore_of_published_issue_content_is_a_correction(publisher):
    issue = issue_with_stories(published=True, week_in_review="Old text")
    page = publisher.get(change_url(issue))
    publisher.post(change_url(issue), change_form_data(page, week_in_review="New text", correction_note="Reworded"))
    first = issue.history.order_by("history_date").first()
    publisher.post(reverse("admin:digest_issue_restore", args=[issue.pk, first.history_id]))
    issue.refresh_from_db()
    assert issue.week_in_review == "Old text"
    assert issue.corrections.count() == 2
    assert issue.state == IssueState.PUBLISHED


def test_editors_cannot_restore_published_content(editor):
    issue = issue_with_stories(published=True, week_in_review="Text")
    record = issue.history.first()
    response = editor.post(reverse("admin:digest_issue_restore", args=[issue.pk, record.history_id]))
    assert response.status_code == 403


# Previews -----------------------------------------------------------------------------------


def test_staff_preview_any_state_with_a_draft_banner(editor, client):
    issue = issue_with_stories(state=IssueState.IN_REVIEW, title="Secret issue")
    response = editor.get(reverse("admin:digest_issue_preview", args=[issue.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Secret issue" in html and "<strong>DRAFT</strong>" in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    anonymous = client.get(reverse("admin:digest_issue_preview", args=[issue.pk]))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    public = client.get(issue.get_absolute_url())
    assert public.status_code == 404 and "Secret" not in public.content.decode()


def make_share_link(client, issue, days=7):
    response = client.post(reverse("admin:digest_issue_share", args=[issue.pk]), {"days": days}, follow=True)
    message = next(m for m in messages_of(response) if "Share link" in m)
    return message.split(": ", 1)[1].replace("http://testserver", "")


def test_share_link_shows_the_draft_until_it_expires(publisher, client):
    issue = issue_with_stories(state=IssueState.APPROVED, title="Shared draft")
    link = make_share_link(publisher, issue, days=2)
    response = client.get(link)
    assert response.status_code == 200
    assert "Shared draft" in response.content.decode() and "<strong>DRAFT</strong>" in response.content.decode()
    with freeze_time(timezone.now() + datetime.timedelta(days=2, minutes=1)):
        expired = client.get(link)
    assert expired.status_code == 403
    assert "This link has expired or is invalid" in expired.content.decode()
    assert "Shared draft" not in expired.content.decode()


def test_tampered_and_revoked_share_links_are_refused(publisher, client):
    issue = issue_with_stories(state=IssueState.APPROVED)
    link = make_share_link(publisher, issue)
    token = link.split("/")[2]
    tampered = link.replace(token, token[:-3] + ("abc" if not token.endswith("abc") else "xyz"))
    assert client.get(tampered).status_code == 403
    assert client.get("/preview/nonsense/").status_code == 403
    publisher.post(reverse("admin:digest_issue_revoke_links", args=[issue.pk]), {"confirm": "yes"})
    assert client.get(link).status_code == 403
    assert client.get(make_share_link(publisher, issue)).status_code == 200


def test_editors_cannot_make_share_links(editor):
    issue = issue_with_stories()
    response = editor.post(reverse("admin:digest_issue_share", args=[issue.pk]), {"days": 7}, follow=True)
    assert "Only publishers may share previews." in messages_of(response)


# Corrections --------------------------------------------------------------------------------


def test_correcting_a_published_issue_needs_a_note_and_shows_publicly(publisher, client):
    issue = issue_with_stories(published=True, week_in_review="Amazn did things.")
    page = publisher.get(change_url(issue))
    assert "Correction note" in page.content.decode()
    response = publisher.post(change_url(issue), change_form_data(page, week_in_review="Amazon did things."))
    assert "add a short public note" in response.content.decode()
    assert (
        'value="Amazon did things."' in response.content.decode() or "Amazon did things." in response.content.decode()
    )
    issue.refresh_from_db()
    assert issue.week_in_review == "Amazn did things."

    response = publisher.post(
        change_url(issue), change_form_data(page, week_in_review="Amazon did things.", correction_note="Fixed a name")
    )
    assert response.status_code == 302
    public = client.get(issue.get_absolute_url()).content.decode()
    assert "Amazon did things." in public
    assert "Fixed a name" in public and "Corrected on" in public
    assert IssueEvent.objects.filter(action="correct", comment="Fixed a name").exists()


def test_correcting_a_story_of_a_published_issue(publisher, client):
    issue = issue_with_stories(published=True)
    story = issue.placements.first().story
    page = publisher.get(change_url(story))
    publisher.post(change_url(story), change_form_data(page, title="Better title", correction_note="Clarified title"))
    assert Story.objects.get(pk=story.pk).title == "Better title"
    assert list(Correction.objects.values_list("note", flat=True)) == ["Clarified title"]
    assert "Clarified title" in client.get(issue.get_absolute_url()).content.decode()


def test_editors_and_contributors_cannot_change_published_content(editor):
    contributor = logged_in(user_in_role("Contributor"))
    issue = issue_with_stories(published=True, week_in_review="Original")
    story = issue.placements.first().story
    for client, obj in ((editor, issue), (editor, story), (contributor, story)):
        page = client.get(change_url(obj))
        assert page.status_code == 200
        assert "Correction note" not in page.content.decode()
        response = client.post(change_url(obj), {"title": "Hacked", "week_in_review": "Hacked"})
        assert response.status_code == 403
    issue.refresh_from_db()
    story.refresh_from_db()
    assert issue.week_in_review == "Original" and story.title != "Hacked"


def test_contributors_write_stories_but_not_issues():
    contributor = logged_in(user_in_role("Contributor"))
    draft_story = issue_with_stories().placements.first().story
    page = contributor.get(change_url(draft_story))
    response = contributor.post(change_url(draft_story), change_form_data(page, title="Contributor edit"))
    assert response.status_code == 302
    assert contributor.get(reverse("admin:digest_issue_add")).status_code == 403
