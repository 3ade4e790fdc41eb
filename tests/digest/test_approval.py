"""Approval means this content: every path that changes an approved issue sends it back to review."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from digest import corrections, publishing, workflow
from digest.approval import content_edit
from digest.fingerprint import fingerprint, issue_content
from digest.interchange import export_issue
from digest.models import Issue, IssueEvent, IssueState, Placement, RunState, Section
from digest.protection import correcting_renames
from digest.revisions import restore_revision
from stories.models import Story
from tests.admin_forms import change_form_data
from tests.factories import PlacementFactory, StoryFactory, ThemeFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "approver": user_in_role("Editor", "eve"),
        "editor": user_in_role("Editor", "ed"),
        "contributor": user_in_role("Contributor", "cora"),
        "publisher": user_in_role("Publisher", "pat"),
    }


@pytest.fixture
def approved(people):
    """An issue approved by eve: two top stories, one developing thread."""
    issue = issue_with_stories(top=2, threads=1, state=IssueState.IN_REVIEW)
    workflow.approve(issue=issue, by=people["approver"])
    issue.refresh_from_db()
    return issue


def stories_of(issue):
    return [placement.story for placement in issue.placements.order_by("section", "position")]


def back_in_review(issue):
    """The issue's state now, and its audit entry for the change (None if there is none)."""
    issue.refresh_from_db()
    return issue.state, IssueEvent.objects.filter(issue=issue, action="content_changed").first()


def test_approval_records_the_fingerprint_of_what_readers_would_see(approved):
    assert approved.approved_fingerprint == fingerprint(issue_content(approved))
    titles = [story["title"] for story in approved.approved_content["stories"]]
    assert titles == [story.title for story in stories_of(approved)]


def test_an_admin_edit_of_a_story_sends_the_issue_back_to_review_and_tells_the_approver(
    client, people, approved, mailoutbox, django_capture_on_commit_callbacks
):
    """The reported bug: a contributor edited a story after approval; it went out unreviewed."""
    story = stories_of(approved)[0]
    client.force_login(people["contributor"])
    url = reverse("admin:stories_story_change", args=[story.pk])
    page = client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, change_form_data(page, summary="Edited after approval."), follow=True)
    assert response.status_code == 200
    assert f"Issue #{approved.number} was approved: this change sent it back to review" in response.content.decode()
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW
    assert event.actor == people["contributor"] and event.from_state == IssueState.APPROVED
    assert "through the newsroom" in event.comment and f"“{story.title}”: summary changed." in event.comment
    [mail] = mailoutbox
    assert mail.to == ["eve@example.com"] and f"Issue #{approved.number} is back in review" in mail.subject
    assert "cora" in mail.body and "summary changed" in mail.body


def test_an_admin_edit_naming_several_parts_lists_each(client, people, approved):
    story = stories_of(approved)[0]
    theme = ThemeFactory(name="Durable execution")
    client.force_login(people["editor"])
    url = reverse("admin:stories_story_change", args=[story.pk])
    page = client.get(url)
    data = change_form_data(page, title="A new title", themes=[str(theme.pk)], tags="kafka")
    data["sources-0-url"] = "https://example.com/moved"
    client.post(url, data)
    _, event = back_in_review(approved)
    assert event.actor == people["editor"]
    for part in ("title changed", "themes changed (none → Durable execution)", "tags changed", "sources changed"):
        assert part in event.comment


def test_saving_a_story_unchanged_in_the_admin_keeps_the_issue_approved(client, people, approved, mailoutbox):
    story = stories_of(approved)[0]
    client.force_login(people["editor"])
    url = reverse("admin:stories_story_change", args=[story.pk])
    client.post(url, change_form_data(client.get(url)))
    assert back_in_review(approved) == (IssueState.APPROVED, None)
    assert mailoutbox == []


def test_an_edit_of_the_issue_texts(people, approved):
    approved.week_in_review = "Rewritten after approval."
    approved._history_user = people["editor"]
    approved.save()
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and event.actor == people["editor"]
    assert "Issue Week in Review changed." in event.comment


def test_an_admin_edit_of_the_issue_texts(client, people, approved):
    client.force_login(people["editor"])
    url = reverse("admin:digest_issue_change", args=[approved.pk])
    client.post(url, change_form_data(client.get(url), patterns="Other patterns."))
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and event.actor == people["editor"]
    assert "Issue Patterns Across Companies changed." in event.comment


def test_a_source_changed(approved):
    source = stories_of(approved)[1].sources.get()
    source.publisher = "Someone else"
    source.save()
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and "sources changed" in event.comment
    assert event.actor is None and "could not name" in event.comment


@pytest.mark.parametrize("change", ["added", "removed", "moved", "reordered"])
def test_a_placement_added_removed_or_moved(approved, change):
    first, second, thread = stories_of(approved)
    if change == "added":
        PlacementFactory(issue=approved, story=StoryFactory(title="Late addition"), section=Section.TOP_STORIES)
        expected = "“Late addition” added to Top Stories."
    elif change == "removed":
        Placement.objects.get(story=thread).delete()
        expected = f"“{thread.title}” removed from the issue."
    elif change == "moved":
        placement = Placement.objects.get(story=first)
        placement.section = Section.DEVELOPING_THREADS
        placement.save()
        expected = f"“{first.title}”: moved from Top Stories to Developing Threads."
    else:
        for placement, position in zip(Placement.objects.filter(story__in=[first, second]), (5, 1), strict=True):
            placement.position = position if placement.story == first else 3
            placement.save()
        expected = "The order of Top Stories changed."
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and expected in event.comment


def test_renumbering_positions_without_changing_the_order_changes_nothing(people, approved):
    # As the admin saves an issue's rows: one edit, checked when it is complete.
    with content_edit(by=people["editor"]):
        for placement in approved.placements.all():
            placement.position += 10
            placement.save()
    assert back_in_review(approved) == (IssueState.APPROVED, None)


def test_a_story_moved_to_another_issue_changes_the_issue_it_left(approved):
    draft = issue_with_stories(top=0, threads=0)
    placement = Placement.objects.get(story=stories_of(approved)[2])
    placement.issue = draft
    placement.save()
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and "removed from the issue" in event.comment


@pytest.mark.parametrize("kind", ["company", "theme", "tag"])
def test_a_rename_of_a_company_theme_or_tag_an_approved_story_shows(people, kind):
    """Not published yet: an editor may rename it with no correction; the approval no longer holds."""
    issue = issue_with_stories(top=1, threads=0, state=IssueState.IN_REVIEW)
    story = stories_of(issue)[0]
    story.themes.add(ThemeFactory(name="Old theme"))
    story.tags.add("old-tag")
    named = {"company": story.companies, "theme": story.themes, "tag": story.tags}[kind].get()
    workflow.approve(issue=issue, by=people["approver"])
    old_name = named.name
    named.name = "Renamed"
    with correcting_renames(obj=named, by=people["editor"], note=""):
        named.save()
    state, event = back_in_review(issue)
    assert state == IssueState.IN_REVIEW and event.actor == people["editor"]
    relation = {"company": "companies", "theme": "themes", "tag": "tags"}[kind]
    assert f"{relation} changed ({old_name} → Renamed)" in event.comment and "through a rename" in event.comment


def test_renaming_a_company_shown_published_and_approved_corrects_one_and_sends_the_other_back(people, approved):
    company = stories_of(approved)[0].companies.get()
    published = issue_with_stories(top=1, threads=0, published=True)
    stories_of(published)[0].companies.add(company)
    company.name = "Renamed Inc."
    with correcting_renames(obj=company, by=people["publisher"], note="Renamed Inc. is the company's new name"):
        company.save()
    published.refresh_from_db()
    assert published.state == IssueState.PUBLISHED and published.corrections.get().note.startswith("Renamed Inc.")
    assert published.approved_fingerprint == fingerprint(issue_content(published))
    assert back_in_review(approved)[0] == IssueState.IN_REVIEW


def test_import_replace_lists_every_change_of_the_file(people, approved, tmp_path):
    story = stories_of(approved)[0]
    company = story.companies.get()
    text = export_issue(approved)
    text = text.replace(story.summary, "Imported summary.", 1).replace(f"companies: {company.name}", "companies: Acme")
    path = tmp_path / "issue.md"
    path.write_text(text, encoding="utf-8")
    call_command("import_issue", str(path), "--replace", "--by", "ed")
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and event.actor == people["editor"]
    assert "through an import" in event.comment
    assert f"“{story.title}”: summary changed; companies changed ({company.name} → Acme)." in event.comment
    assert IssueEvent.objects.filter(action="content_changed").count() == 1


def test_import_replace_of_the_same_content_keeps_the_approval(approved, tmp_path):
    """The import deletes and makes anew every placement and source: only the end result counts."""
    path = tmp_path / "issue.md"
    path.write_text(export_issue(approved), encoding="utf-8")
    call_command("import_issue", str(path), "--replace")
    assert back_in_review(approved) == (IssueState.APPROVED, None)


def test_a_restored_revision(people):
    issue = issue_with_stories(top=1, threads=0, state=IssueState.IN_REVIEW)
    story = stories_of(issue)[0]
    first = story.history.latest().history_id
    story.title = "Second title"
    story.save()
    workflow.approve(issue=issue, by=people["approver"])
    restore_revision(obj=Story.objects.get(pk=story.pk), history_id=first, by=people["editor"])
    state, event = back_in_review(issue)
    assert state == IssueState.IN_REVIEW and event.actor == people["editor"]
    assert "through a restored revision" in event.comment and "title changed (“Second title” →" in event.comment


def test_a_scheduled_issue_is_unscheduled_and_back_in_review(people, approved, django_capture_on_commit_callbacks):
    publish_at = timezone.now() + datetime.timedelta(days=1)
    workflow.schedule(issue=approved, by=people["publisher"], publish_at=publish_at)
    story = stories_of(approved)[0]
    story.title = "Changed while scheduled"
    story.save()
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and approved.publish_at is None
    assert event.from_state == IssueState.SCHEDULED
    assert publishing.publish_due_issues(now=publish_at + datetime.timedelta(minutes=1), enqueue=False)[0] == []


def test_a_change_while_publish_now_is_queued_cancels_the_run(people, approved):
    run = publishing.publish(issue=approved, by=people["publisher"])
    story = stories_of(approved)[0]
    story.summary = "Changed before the worker ran."
    story.save()
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED and "changed after it was approved" in run.last_error
    publishing.advance_run(run.pk)
    assert back_in_review(approved)[0] == IssueState.IN_REVIEW


def test_the_runs_first_step_refuses_a_change_no_signal_announced(people, approved):
    run = publishing.publish(issue=approved, by=people["publisher"])
    story = stories_of(approved)[0]
    Story.objects.filter(pk=story.pk).update(title="Bulk-updated title")  # update() sends no signal
    with pytest.raises(publishing.StepError) as error:
        publishing.advance_run(run.pk)
    assert error.value.retry_at is None  # for good
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "changed after it was approved, so it was not published" in run.last_error
    assert f"title changed (“{story.title}” → “Bulk-updated title”)" in run.last_error
    state, event = back_in_review(approved)
    assert state == IssueState.IN_REVIEW and approved.published_at is None and approved.publish_at is None
    assert event.actor is None and "Bulk-updated title" in event.comment


def test_a_correction_records_the_new_fingerprint(people, approved):
    publishing.advance_run(publishing.publish(issue=approved, by=people["publisher"]).pk)
    approved.refresh_from_db()
    assert approved.state == IssueState.PUBLISHED
    approved_fingerprint = approved.approved_fingerprint
    story = stories_of(approved)[0]
    story.title = "Corrected title"
    story.save()
    approved.refresh_from_db()
    assert approved.state == IssueState.PUBLISHED  # a published issue changes through corrections only
    corrections.record_correction(issue=approved, by=people["publisher"], note="Fixed a title")
    approved.refresh_from_db()
    assert approved.approved_fingerprint != approved_fingerprint
    assert approved.approved_fingerprint == fingerprint(issue_content(approved))
    assert approved.approved_content["stories"][0]["title"] == "Corrected title"


def test_an_admin_correction_records_the_fingerprint_with_its_links_and_sources(client, people, approved):
    publishing.advance_run(publishing.publish(issue=approved, by=people["publisher"]).pk)
    story = stories_of(approved)[0]
    client.force_login(people["publisher"])
    url = reverse("admin:stories_story_change", args=[story.pk])
    data = change_form_data(client.get(url), correction_note="Fixed the source", tags="corrected")
    data["sources-0-title"] = "The right source"
    client.post(url, data)
    approved.refresh_from_db()
    assert approved.corrections.get().note == "Fixed the source"
    assert approved.approved_fingerprint == fingerprint(issue_content(approved))


def test_a_change_to_an_unrelated_draft_story_does_nothing_and_costs_one_query_per_room(approved, mailoutbox):
    draft_story = issue_with_stories(top=1, threads=0).placements.get().story
    draft_story.title = "Draft edit"
    with CaptureQueriesContext(connection) as queries:
        draft_story.save()
    assert back_in_review(approved) == (IssueState.APPROVED, None)
    assert mailoutbox == []
    # One small look at the story's placement for each room that reacts to content edits: the
    # approval check here, the reader site's purge (is it public?). Neither writes anything.
    placement_queries = [query["sql"] for query in queries.captured_queries if '"digest_placement"' in query["sql"]]
    assert len(placement_queries) == 2
    assert not [query["sql"] for query in queries.captured_queries if query["sql"].startswith(("INSERT", "UPDATE"))
                and '"stories_story"' not in query["sql"] and "historical" not in query["sql"]]  # fmt: skip


def test_workflow_saves_are_not_content_changes(people, approved):
    workflow.schedule(issue=approved, by=people["publisher"], publish_at=timezone.now() + datetime.timedelta(hours=1))
    workflow.unschedule(issue=approved, by=people["publisher"])
    assert back_in_review(approved) == (IssueState.APPROVED, None)


def test_deleting_an_approved_issue_still_works(approved):
    approved.delete()
    assert not Issue.objects.filter(pk=approved.pk).exists()


def test_the_approver_changing_it_gets_no_mail(people, approved, mailoutbox, django_capture_on_commit_callbacks):
    story = stories_of(approved)[0]
    story.title = "Eve's own change"
    story._history_user = people["approver"]
    with django_capture_on_commit_callbacks(execute=True):
        story.save()
    _, event = back_in_review(approved)
    assert event.actor == people["approver"] and mailoutbox == []
