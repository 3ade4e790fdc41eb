"""The publish run in one process: steps, idempotence, retries, the scheduler."""

import contextlib
import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from digest import corrections, publishing, workflow
from digest.models import (
    UNFINISHED_RUN_STATES,
    Issue,
    IssueEvent,
    IssueState,
    PublicationRun,
    RunKind,
    RunState,
    StepStatus,
)
from digest.signals import issue_published
from tests.concurrency import held_by_another_transaction
from tests.factories import issue_with_stories, record_approval, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher():
    return user_in_role("Publisher")


@pytest.fixture
def announcements():
    """Every issue_published signal sent, as a real receiver would get it."""
    received = []

    def receiver(sender, issue, run, **kwargs):
        received.append((issue.pk, run.pk))

    issue_published.connect(receiver)
    yield received
    issue_published.disconnect(receiver)


@pytest.fixture
def failing_announcement():
    """A notification channel that is down until the test says it is fixed."""
    state = {"down": True}

    def receiver(sender, **kwargs):
        if state["down"]:
            raise ConnectionError("newsletter service unreachable")

    issue_published.connect(receiver)
    yield state
    issue_published.disconnect(receiver)


def approved_with(issue, **fields):
    """Give an approved issue these fields as if it was approved with them (before a checklist rule, say).

    Edited otherwise, an approved issue goes back to review (``digest.approval``).
    """
    Issue.objects.filter(pk=issue.pk).update(**fields)
    issue.refresh_from_db()
    return record_approval(issue)


def steps_of(run):
    return list(run.steps.order_by("position").values_list("name", "status", "attempts"))


def test_publishing_records_a_run_and_completes_every_step_once(publisher, announcements, settings):
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED  # nothing is live before a worker runs the steps
    assert steps_of(run) == [(name, StepStatus.PENDING, 0) for name in publishing.steps_for(RunKind.PUBLISH)]

    publishing.advance_run(run.pk)
    run.refresh_from_db()
    issue.refresh_from_db()
    assert run.state == RunState.COMPLETED and run.finished_at is not None
    assert steps_of(run) == [(name, StepStatus.DONE, 1) for name in publishing.steps_for(RunKind.PUBLISH)]
    assert issue.state == IssueState.PUBLISHED and issue.published_at is not None
    assert announcements == [(issue.pk, run.pk)]
    event = IssueEvent.objects.get(action="publish")
    assert event.actor == publisher


@pytest.fixture
def outer_room_step():
    """A step an outer room (the newsletter, say) registers from its AppConfig.ready()."""
    calls = []

    def send_mailing(run, issue):
        issue.refresh_from_db()
        calls.append((issue.pk, issue.state, bool(issue.pdf)))

    publishing.register_step("send_mailing", send_mailing, before="notify")
    yield calls
    publishing.unregister_step("send_mailing")


def test_an_outer_room_adds_a_step_to_new_publication_runs(publisher, outer_room_step, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Placed where it asked, among the core's steps (other rooms' steps may be registered too).
    steps = publishing.steps_for(RunKind.PUBLISH)
    assert steps[:2] == ["mark_published", "render_pdf"] and steps.index("send_mailing") + 1 == steps.index("notify")
    assert publishing.steps_for(RunKind.CORRECTION) == ["render_pdf"]
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    publishing.advance_run(run.pk)
    # It ran once, after the issue went live and its PDF was stored.
    assert outer_room_step == [(issue.pk, IssueState.PUBLISHED, True)]
    assert [name for name, *_ in steps_of(run)] == steps


def test_a_run_whose_step_is_no_longer_registered_still_completes(publisher, outer_room_step, announcements):
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    publishing.unregister_step("send_mailing")  # a release removed it while the run waited
    publishing.advance_run(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED
    assert outer_room_step == [] and announcements == [(issue.pk, run.pk)]


def test_running_a_run_again_has_no_further_effect(publisher, announcements):
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    publishing.advance_run(run.pk)
    issue.refresh_from_db()
    published_at = issue.published_at
    publishing.advance_run(run.pk)
    publishing.advance_run(run.pk)
    issue.refresh_from_db()
    assert issue.published_at == published_at
    assert len(announcements) == 1
    assert IssueEvent.objects.filter(action="publish").count() == 1
    assert steps_of(run) == [(name, StepStatus.DONE, 1) for name in publishing.steps_for(RunKind.PUBLISH)]


def test_clicking_publish_twice_makes_one_run(publisher):
    issue = issue_with_stories(state=IssueState.APPROVED)
    assert publishing.publish(issue=issue, by=publisher) == publishing.publish(issue=issue, by=publisher)
    assert PublicationRun.objects.count() == 1


def test_a_failing_step_backs_off_fails_the_run_and_retries_after_the_fix(
    publisher, failing_announcement, settings, client
):
    settings.PUBLISHING_MAX_ATTEMPTS = 3
    settings.PUBLISHING_RETRY_BACKOFF_SECONDS = 0
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    for attempt in range(1, 4):
        with pytest.raises(publishing.StepError) as error:
            publishing.advance_run(run.pk)
        assert (error.value.retry_at is None) == (attempt == 3)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.last_error == "notify: ConnectionError: newsletter service unreachable"
    assert steps_of(run)[-1] == ("notify", StepStatus.FAILED, 3)
    publishing.advance_run(run.pk)  # a failed run waits for a person: nothing happens
    assert steps_of(run)[-1] == ("notify", StepStatus.FAILED, 3)

    client.force_login(publisher)
    html = client.get(reverse("admin:digest_publicationrun_change", args=[run.pk])).content.decode()
    assert "newsletter service unreachable" in html and ">Retry</button>" in html

    failing_announcement["down"] = False
    client.post(reverse("admin:digest_publicationrun_retry", args=[run.pk]))
    publishing.advance_run(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED
    assert IssueEvent.objects.filter(action="publish").count() == 1


def test_backoff_grows_and_is_capped(settings):
    settings.PUBLISHING_RETRY_BACKOFF_SECONDS = 10
    settings.PUBLISHING_RETRY_BACKOFF_MAX_SECONDS = 60
    assert [publishing.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_a_step_waits_for_its_retry_time(publisher, failing_announcement, settings):
    settings.PUBLISHING_RETRY_BACKOFF_SECONDS = 300
    run = publishing.publish(issue=issue_with_stories(state=IssueState.APPROVED), by=publisher)
    with pytest.raises(publishing.StepError):
        publishing.advance_run(run.pk)
    failing_announcement["down"] = False
    with pytest.raises(publishing.RunNotReady) as error:
        publishing.advance_run(run.pk)
    assert error.value.retry_at > timezone.now() + datetime.timedelta(minutes=4)


def test_checklist_failing_at_publication_time_fails_the_run_for_good(publisher):
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    approved_with(issue, week_in_review="")
    with pytest.raises(publishing.StepError) as error:
        publishing.advance_run(run.pk)
    assert error.value.retry_at is None
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "Write the Week in Review." in run.last_error
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED


def test_unscheduling_cancels_a_queued_run(publisher):
    issue = issue_with_stories(state=IssueState.SCHEDULED, publish_at=timezone.now() - datetime.timedelta(minutes=1))
    run = publishing.start_publication(issue=issue, by=None)
    workflow.unschedule(issue=issue, by=publisher)
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    publishing.advance_run(run.pk)
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED


def test_scheduler_starts_only_due_issues():
    now = timezone.now()
    due = issue_with_stories(state=IssueState.SCHEDULED, publish_at=now - datetime.timedelta(seconds=5))
    issue_with_stories(state=IssueState.SCHEDULED, publish_at=now + datetime.timedelta(minutes=5))
    issue_with_stories(state=IssueState.APPROVED)
    assert [issue.pk for issue in publishing.overdue_issues()] == [due.pk]
    started, _ = publishing.publish_due_issues(dry_run=True)
    assert [issue.pk for issue in started] == [due.pk] and not PublicationRun.objects.exists()
    started, _ = publishing.publish_due_issues()
    assert [issue.pk for issue in started] == [due.pk]
    publishing.publish_due_issues()
    run = PublicationRun.objects.get()
    assert run.issue == due and run.requested_by is None
    publishing.advance_run(run.pk)
    due.refresh_from_db()
    assert due.state == IssueState.PUBLISHED
    assert IssueEvent.objects.get(action="publish").actor is None


@pytest.mark.django_db(transaction=True)
def test_two_beat_ticks_at_once_publish_once(postgresql):
    issue = issue_with_stories(state=IssueState.SCHEDULED, publish_at=timezone.now() - datetime.timedelta(seconds=1))
    barrier = threading.Barrier(4)
    errors = []

    def tick():
        try:
            barrier.wait()
            publishing.publish_due_issues()
            for run in PublicationRun.objects.filter(issue=issue):
                with contextlib.suppress(publishing.RunNotReady):
                    publishing.advance_run(run.pk)
        except Exception as error:  # any error in a thread fails the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PublicationRun.objects.filter(issue=issue).count() == 1
    for run in PublicationRun.objects.filter(issue=issue, state=RunState.PENDING):
        publishing.advance_run(run.pk)
    assert IssueEvent.objects.filter(issue=issue, action="publish").count() == 1
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED


def test_publish_due_command(capsys):
    issue = issue_with_stories(state=IssueState.SCHEDULED, publish_at=timezone.now() - datetime.timedelta(minutes=3))
    call_command("publish_due", "--dry-run")
    out = capsys.readouterr().out
    assert f"Due: #{issue.number}" in out and "nothing changed" in out
    issue.refresh_from_db()
    assert issue.state == IssueState.SCHEDULED
    call_command("publish_due")
    assert "completed" in capsys.readouterr().out
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED


def test_publishing_report_lists_overdue_failed_and_scheduled(client, publisher, failing_announcement, settings):
    settings.PUBLISHING_MAX_ATTEMPTS = 1
    now = timezone.now()
    overdue = issue_with_stories(state=IssueState.SCHEDULED, publish_at=now - datetime.timedelta(minutes=10))
    upcoming = issue_with_stories(state=IssueState.SCHEDULED, publish_at=now + datetime.timedelta(days=1))
    failed = publishing.publish(issue=issue_with_stories(state=IssueState.APPROVED), by=publisher)
    with pytest.raises(publishing.StepError):
        publishing.advance_run(failed.pk)
    client.force_login(publisher)
    html = client.get(reverse("admin:digest_publicationrun_report")).content.decode()
    overdue_part = html[html.index("Overdue (1)") : html.index("Failed runs")]
    assert str(overdue.number) in overdue_part
    assert "newsletter service unreachable" in html
    scheduled_part = html[html.index("Scheduled (1)") :]
    assert f"#{upcoming.number}" in scheduled_part
    issue_page = client.get(reverse("admin:digest_issue_change", args=[overdue.pk])).content.decode()
    assert "Overdue:" in issue_page


def test_the_run_stores_the_pdf_and_a_correction_renders_it_again(publisher, django_capture_on_commit_callbacks):
    issue = issue_with_stories(state=IssueState.APPROVED, week_in_review="First words.")
    run = publishing.publish(issue=issue, by=publisher)
    publishing.advance_run(run.pk)
    issue.refresh_from_db()
    first_hash = issue.pdf_content_hash
    assert issue.pdf and issue.pdf_pages >= 2
    issue.week_in_review = "Corrected words."
    issue.save()
    with django_capture_on_commit_callbacks(execute=True):
        corrections.record_correction(issue=issue, by=publisher, note="Reworded the review")
    issue.refresh_from_db()
    assert issue.pdf_content_hash != first_hash


# A run must stop when its issue is no longer meant to go live (issue 12, item 2) --------------


def due_issue():
    return issue_with_stories(state=IssueState.SCHEDULED, publish_at=timezone.now() - datetime.timedelta(minutes=1))


def test_unscheduling_stops_a_run_that_a_dead_worker_left_running(publisher, announcements):
    issue = due_issue()
    run = publishing.start_publication(issue=issue, by=None)
    publishing._claim_next_step(run.pk)  # a worker took "mark_published", then died before it ran
    workflow.unschedule(issue=issue, by=publisher)
    publishing.advance_run(run.pk)  # the restarted worker gets the message again
    issue.refresh_from_db()
    run.refresh_from_db()
    assert issue.state == IssueState.APPROVED and issue.published_at is None
    assert run.state == RunState.CANCELLED
    assert announcements == []


def test_withdrawing_stops_the_rest_of_a_run(publisher, announcements, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    step = publishing._claim_next_step(run.pk)
    publishing._execute_step(run.pk, step.pk)  # live; the worker dies before the PDF
    publishing._claim_next_step(run.pk)
    workflow.withdraw(issue=issue, by=publisher, comment="Legal asked us to.")
    publishing.advance_run(run.pk)
    run.refresh_from_db()
    issue.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert issue.state == IssueState.WITHDRAWN and not issue.pdf
    assert announcements == []


@pytest.mark.django_db(transaction=True)
def test_unscheduling_while_a_worker_holds_the_run_neither_waits_nor_publishes(postgresql, announcements, monkeypatch):
    """A worker's step locks the run, then the issue; unschedule locks the issue, then the runs."""
    monkeypatch.setattr(publishing, "enqueue_run", lambda run_id: None)  # this test is the worker
    publisher = user_in_role("Publisher")
    issue = due_issue()
    run = publishing.start_publication(issue=issue, by=None)
    publishing._claim_next_step(run.pk)
    # A worker mid-step holds the run's row: unscheduling does not wait for it.
    with held_by_another_transaction(lambda: PublicationRun.objects.select_for_update().get(pk=run.pk)):
        workflow.unschedule(issue=issue, by=publisher)
    publishing.advance_run(run.pk)  # the worker's next step re-checks the issue
    issue.refresh_from_db()
    run.refresh_from_db()
    assert issue.state == IssueState.APPROVED and issue.published_at is None
    assert run.state == RunState.CANCELLED and "unscheduled" in run.last_error
    assert announcements == []


def test_rescheduling_for_later_stops_the_run_of_the_earlier_time(publisher):
    issue = due_issue()
    run = publishing.start_publication(issue=issue, by=None)
    publishing._claim_next_step(run.pk)
    workflow.unschedule(issue=issue, by=publisher)
    workflow.schedule(issue=issue, by=publisher, publish_at=timezone.now() + datetime.timedelta(days=1))
    publishing.advance_run(run.pk)
    issue.refresh_from_db()
    assert issue.state == IssueState.SCHEDULED and issue.published_at is None


# Publishing again after a failed run (issue 12, item 3) ----------------------------------------


def failed_publication(publisher):
    """An approved issue whose "Publish now" failed for good at publication time."""
    issue = issue_with_stories(state=IssueState.APPROVED)
    run = publishing.publish(issue=issue, by=publisher)
    text = issue.week_in_review
    approved_with(issue, week_in_review="")
    with pytest.raises(publishing.StepError):
        publishing.advance_run(run.pk)
    approved_with(issue, week_in_review=text)  # the publisher fixes it
    return issue, run


def test_publish_now_after_a_failed_run_starts_a_new_run(publisher):
    issue, failed = failed_publication(publisher)
    run = publishing.publish(issue=issue, by=publisher)
    assert run.pk != failed.pk
    publishing.advance_run(run.pk)
    issue.refresh_from_db()
    failed.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED
    assert failed.state == RunState.CANCELLED and "Write the Week in Review." in failed.last_error


def test_a_schedule_coming_due_after_a_failed_run_publishes(publisher):
    issue, _ = failed_publication(publisher)
    publish_at = timezone.now() + datetime.timedelta(hours=1)
    workflow.schedule(issue=issue, by=publisher, publish_at=publish_at)
    started, _ = publishing.publish_due_issues(now=publish_at + datetime.timedelta(seconds=1), enqueue=False)
    assert [started_issue.pk for started_issue in started] == [issue.pk]
    with freeze_time(publish_at + datetime.timedelta(seconds=2)):
        publishing.advance_run(run_of(issue).pk)
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED


def test_a_failed_run_of_the_current_schedule_waits_for_a_person(publisher):
    """The beat does not start a failing publication again every minute."""
    issue = approved_with(due_issue(), week_in_review="")
    run = publishing.start_publication(issue=issue, by=None)
    with pytest.raises(publishing.StepError):
        publishing.advance_run(run.pk)
    started, _ = publishing.publish_due_issues(enqueue=False)
    assert started == [] and PublicationRun.objects.filter(issue=issue).count() == 1


def run_of(issue):
    return PublicationRun.objects.filter(issue=issue).order_by("-created_at", "-id").first()


# A correction's PDF rebuild is a run, recorded with the correction (issue 12, item 4) ------------


@pytest.fixture
def published_issue(publisher, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    issue = issue_with_stories(state=IssueState.APPROVED, week_in_review="First words.")
    publishing.advance_run(publishing.publish(issue=issue, by=publisher).pk)
    issue.refresh_from_db()
    return issue


def test_a_correction_records_its_pdf_rebuild_in_the_database(publisher, published_issue):
    """The broker never hears of it (nothing runs on commit): the beat still rebuilds the PDF."""
    first_hash = published_issue.pdf_content_hash
    published_issue.week_in_review = "Corrected words."
    published_issue.save()
    corrections.record_correction(issue=published_issue, by=publisher, note="Reworded the review")
    run = run_of(published_issue)
    assert run.kind == "correction" and run.state == RunState.PENDING
    assert [step.name for step in run.steps.all()] == ["render_pdf"]
    _, unfinished = publishing.publish_due_issues(enqueue=False)
    assert unfinished == [run.pk]
    publishing.advance_run(run.pk)
    published_issue.refresh_from_db()
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED
    assert published_issue.pdf_content_hash != first_hash


def test_a_correction_while_the_publication_run_is_still_open_rebuilds_the_pdf(publisher, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    issue = issue_with_stories(state=IssueState.APPROVED, week_in_review="First words.")
    run = publishing.publish(issue=issue, by=publisher)
    for _ in range(2):  # mark_published, render_pdf: done; notify still to come
        publishing._execute_step(run.pk, publishing._claim_next_step(run.pk).pk)
    issue.refresh_from_db()
    first_hash = issue.pdf_content_hash
    issue.week_in_review = "Corrected words."
    issue.save()
    corrections.record_correction(issue=issue, by=publisher, note="Reworded the review")
    for open_run in PublicationRun.objects.filter(issue=issue, state__in=UNFINISHED_RUN_STATES):
        publishing.advance_run(open_run.pk)
    issue.refresh_from_db()
    assert issue.pdf_content_hash != first_hash
    assert not PublicationRun.objects.filter(issue=issue).exclude(state=RunState.COMPLETED).exists()


def test_correction_runs_are_shown_in_the_admin(client, publisher, published_issue):
    corrections.record_correction(issue=published_issue, by=publisher, note="Reworded the review")
    client.force_login(publisher)
    html = client.get(reverse("admin:digest_publicationrun_changelist")).content.decode()
    assert '<td class="field-kind">Correction</td>' in html and "render_pdf" in html
