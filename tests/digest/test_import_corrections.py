"""`import_issue --replace` on a published issue is a correction, or nothing happens."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from digest.interchange import export_issue
from digest.models import Correction
from tests.admin_forms import change_form_data
from tests.factories import issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(tmp_path):
    """A published issue, and its file with the Week in Review and a story's title corrected."""
    issue = issue_with_stories(top=1, threads=0, published=True, week_in_review="Amazn shipped things.")
    story = issue.placements.get().story
    text = export_issue(issue).replace("Amazn shipped", "Amazon shipped").replace(f"## {story.title}", "## Fixed title")
    path = tmp_path / "issue.md"
    path.write_text(text, encoding="utf-8")
    return issue, story, str(path)


def snapshot(issue, story):
    issue.refresh_from_db()
    story.refresh_from_db()
    return (issue.week_in_review, issue.version, story.title, story.version, list(story.sources.values_list("pk")))


def test_replacing_a_published_issue_without_a_note_is_refused_and_changes_nothing(published):
    issue, story, path = published
    before = snapshot(issue, story)
    with pytest.raises(CommandError, match=r"(?s)is published: replacing it is a correction.*Nothing was imported"):
        call_command("import_issue", path, "--replace")
    call_command("sync_roles")
    user_in_role("Editor", "ed")
    with pytest.raises(CommandError, match="not a publisher"):
        call_command("import_issue", path, "--replace", "--correction", "Fixed", "--by", "ed")
    with pytest.raises(CommandError, match="needs --by"):
        call_command("import_issue", path, "--replace", "--correction", "Fixed")
    assert snapshot(issue, story) == before
    assert not Correction.objects.exists()


def test_replacing_a_published_issue_with_a_note_is_a_correction(published, django_capture_on_commit_callbacks):
    issue, _story, path = published
    reader = Client()
    assert "Amazn shipped" in reader.get(issue.get_absolute_url()).content.decode()  # now cached
    user_in_role("Publisher", "pat")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_issue", path, "--replace", "--correction", "Spelled Amazon right", "--by", "pat")
    correction = Correction.objects.get()
    assert (correction.issue_id, correction.note, correction.created_by.username) == (
        issue.pk,
        "Spelled Amazon right",
        "pat",
    )
    public = reader.get(issue.get_absolute_url()).content.decode()
    assert "Amazon shipped" in public and "Fixed title" in public and "Spelled Amazon right" in public
    issue.refresh_from_db()
    assert issue.state == "published"


def test_a_story_form_opened_before_an_import_conflicts_instead_of_failing_silently(tmp_path):
    """Before: "Please correct the error below" with no error shown (the form's source ids were gone)."""
    issue = issue_with_stories(top=1, threads=0)
    story = issue.placements.get().story
    path = tmp_path / "issue.md"
    path.write_text(export_issue(issue).replace(f"## {story.title}", "## Imported title"), encoding="utf-8")
    editor = Client()
    editor.force_login(user_in_role("Editor", "ed"))
    url = reverse("admin:stories_story_change", args=[story.pk])
    page = editor.get(url)
    call_command("import_issue", str(path), "--replace")

    response = editor.post(url, change_form_data(page, title="Typed before"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "saved this story at" in html and "after you opened it" in html  # the conflict message
    assert "Typed before" in html
    story.refresh_from_db()
    assert story.title == "Imported title"

    # Saving again deliberately: the sources the form names were made anew by the import.
    response = editor.post(url, change_form_data(response, title="Typed before"))
    assert response.status_code == 200
    assert "sources were replaced or deleted after you opened this story" in response.content.decode()
    story.refresh_from_db()
    assert story.title == "Imported title" and story.sources.count() == 1
