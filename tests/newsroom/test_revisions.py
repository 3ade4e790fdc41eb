"""History pages: what changed in each revision, tags and sources included, and restoring one."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from digest.models import Correction
from stories.models import Story, Theme
from tests.admin_forms import change_form_data
from tests.factories import IssueFactory, PlacementFactory, StoryFactory, ThemeFactory, user_in_role

pytestmark = pytest.mark.django_db


def logged_in(role):
    client = Client()
    client.force_login(user_in_role(role))
    return client


def history_table(client, obj):
    opts = obj._meta
    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
    assert response.status_code == 200
    table = re.search(r'<table id="change-history".*?</table>', response.content.decode(), re.S).group(0)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table)))


def edit_story(client, story, *, sources=None, **changes):
    url = reverse("admin:stories_story_change", args=[story.pk])
    data = change_form_data(client.get(url), **changes)
    data.update(sources or {})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors


def test_a_storys_history_shows_its_tags_and_sources_changing():
    story = StoryFactory(title="Queues at scale", sources=False)
    story.sources.create(title="How we queue", publisher="Acme blog", url="https://acme.example/queue")
    story.tags.add("kafka")
    editor = logged_in("Editor")

    edit_story(
        editor,
        story,
        tags="kafka, queues",
        sources={"sources-0-title": "How we queue, revisited", "sources-0-url": "https://acme.example/queue-2"},
    )

    table = history_table(editor, story)
    assert "Tags: kafka → kafka, queues" in table
    assert (
        "Sources: How we queue — Acme blog <https://acme.example/queue> → "
        "How we queue, revisited — Acme blog <https://acme.example/queue-2>"
    ) in table
    assert "None" not in table


def test_the_revision_list_has_readable_values_and_no_none():
    """Values as the change form shows them: labels of choices, "—" for nothing, no "None" anywhere."""
    issue = IssueFactory(title="Before")
    issue.title, issue.publish_at = "After", None
    issue.save()
    story = StoryFactory(companies=[])  # made by no one: a factory, like a command or an import
    story.title = "Renamed"
    story.save()
    admin = logged_in("Editor")
    for obj in (issue, story):
        table = history_table(admin, obj)
        assert "None" not in table
        assert "Change reason" not in table
    assert "Title: Before → After" in history_table(admin, issue)
    assert "not recorded (a command or an import)" in history_table(admin, story)


def test_revisions_from_before_tags_were_kept_show_no_tag_change():
    story = StoryFactory()
    story.tags.add("kafka")
    Story.history.model.objects.filter(id=story.pk).update(tag_names=None)
    story = Story.objects.get(pk=story.pk)
    story.title = "Renamed"
    story.save()
    table = history_table(logged_in("Editor"), story)
    assert "Title:" in table and "Tags:" not in table


def test_restoring_a_story_brings_back_the_tags_and_sources_its_revision_lists():
    story = StoryFactory(sources=False)
    story.sources.create(title="Original post", url="https://acme.example/original")
    story.tags.add("kafka")
    editor = logged_in("Editor")
    edit_story(editor, story, tags="queues", sources={"sources-0-title": "Rewritten post"})
    before = story.history.order_by("history_date", "history_id")
    first_revision = before.last()  # the state after the factory's save and tags
    assert "Tags: kafka → queues" in history_table(editor, story)
    oldest_listing = [row for row in before if row.tag_names == ["kafka"]][-1]
    assert first_revision.history_id != oldest_listing.history_id

    response = editor.post(reverse("admin:stories_story_restore", args=[story.pk, oldest_listing.history_id]))

    assert response.status_code == 302
    story = Story.objects.get(pk=story.pk)
    assert list(story.tags.names()) == ["kafka"]
    assert [source.title for source in story.sources.all()] == ["Original post"]
    table = history_table(editor, story)
    assert table.index("Tags: queues → kafka") < table.index("Tags: kafka → queues")
    assert "Sources: Rewritten post <https://acme.example/original> → Original post" in table


def test_a_themes_history_shows_its_edits_and_restores_them():
    theme = ThemeFactory(name="Durable exec", description="")
    contributor = logged_in("Contributor")
    url = reverse("admin:stories_theme_change", args=[theme.pk])
    data = change_form_data(contributor.get(url), name="Durable execution", description="Workflows that survive.")
    assert contributor.post(url, data).status_code == 302

    table = history_table(contributor, theme)
    assert "Name: Durable exec → Durable execution" in table
    assert "Description: (empty) → Workflows that survive." in table
    assert "None" not in table

    first = theme.history.earliest()
    response = contributor.post(reverse("admin:stories_theme_restore", args=[theme.pk, first.history_id]))
    assert response.status_code == 302
    theme.refresh_from_db()
    assert (theme.name, theme.description) == ("Durable exec", "")
    assert "Name: Durable execution → Durable exec" in history_table(contributor, theme)


def test_restoring_the_old_name_of_a_theme_a_published_issue_shows_is_a_correction_by_a_publisher():
    theme = ThemeFactory(name="Agent infra")
    issue = IssueFactory(published=True)
    PlacementFactory(issue=issue, story=StoryFactory(themes=[theme]))
    typo = theme.history.latest()
    theme.name = "Agent infrastructure"
    theme.save()
    restore = reverse("admin:stories_theme_restore", args=[theme.pk, typo.history_id])

    response = logged_in("Editor").post(restore, follow=True)
    assert "Only publishers may rename" in " ".join(str(m) for m in response.context["messages"])
    assert Theme.objects.get(pk=theme.pk).name == "Agent infrastructure"

    assert logged_in("Publisher").post(restore).status_code == 302
    assert Theme.objects.get(pk=theme.pk).name == "Agent infra"
    assert Correction.objects.get(issue=issue).note.startswith("Restored “Agent infra” to its version of")


def test_a_storys_history_page_is_a_fixed_number_of_queries(django_assert_max_num_queries):
    def edited_story(edits):
        story = StoryFactory(sources=False)
        for edit in range(edits):
            story.sources.create(title=f"Source {edit}", position=edit)
            story.tags.add(f"tag-{edit}")
            story.title = f"Edit {edit}"
            story.save()
        return story

    client = logged_in("Editor")
    counts = []
    for edits in (2, 8):
        story = edited_story(edits)
        with django_assert_max_num_queries(40) as captured:
            table = history_table(client, story)
        assert f"Title: Edit {edits - 2} → Edit {edits - 1}" in table
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
