"""The message: rendered once, light and dark, a text part that reads alone, under Gmail's 102 KB clip."""

import pytest

from bench.pdf import demo_issue, forty_story_issue
from digest.models import Placement
from newsletter.message import UNSUBSCRIBE_PLACEHOLDER, html_to_text, render_issue_message
from stories.models import SUMMARY_MAX_LENGTH, Story
from stories.rendering import render_markdown

pytestmark = pytest.mark.django_db

GMAIL_CLIP_BYTES = 102 * 1024


def render(issue):
    return render_issue_message(issue, subject=issue.title, preheader="This week in one line")


def test_the_demo_issue_is_mailed_whole(settings):
    settings.NEWSLETTER_POSTAL_ADDRESS = "Engineering @ Scale, 1 Example Street, Springfield"
    issue = demo_issue()
    message = render(issue)
    assert not message.shortened
    assert len(message.html.encode()) < GMAIL_CLIP_BYTES
    for placement in Placement.objects.filter(issue=issue).select_related("story"):
        # Whole: the last words of every summary are in both parts.
        last_words = placement.story.summary.split()[-3:]
        text = html_to_text(placement.story.summary_html)[0]
        assert " ".join(text.split()[-3:]) in message.text, placement.story.title
        assert last_words
    assert "prefers-color-scheme: dark" in message.html  # dark mode kept as a media query
    assert 'name="viewport"' in message.html and "max-width: 640px" in message.html
    assert "This week in one line" in message.html  # the preheader
    assert "1 Example Street" in message.html and "1 Example Street" in message.text
    assert message.html.count(UNSUBSCRIBE_PLACEHOLDER) == 1 and message.text.count(UNSUBSCRIBE_PLACEHOLDER) == 1
    assert "<script" not in message.html and "<img" not in message.html  # no tracking pixel


def test_the_benchs_forty_story_issue_fits_and_at_10000_characters_a_story_its_openings_do(db):
    issue = forty_story_issue(demo_issue())
    message = render(issue)
    assert not message.shortened and len(message.html.encode()) < GMAIL_CLIP_BYTES
    assert "https://engineering.example.com/2026/05/how-we-rebuilt-it-story-40" in message.text  # links listed

    # Every summary at the longest the newsroom accepts (the stored HTML written directly: the
    # message reads only that, and forty saves with their signals would take the test's time).
    paragraph = "A long account of a migration, told in detail with every number the team measured. "
    summary = (paragraph * 200)[: SUMMARY_MAX_LENGTH - 20] + " The end."
    Story.objects.filter(placement__issue=issue).update(summary=summary, summary_html=render_markdown(summary))
    message = render(issue)
    assert message.shortened
    assert len(message.html.encode()) < GMAIL_CLIP_BYTES
    assert "too long for an email" in message.html and "too long for an email" in message.text
    for placement in Placement.objects.filter(issue=issue).select_related("story"):
        assert f"{issue.get_absolute_url()}#{placement.story.slug}" in message.html
    assert "The end." not in message.html


def test_the_text_part_lists_the_links_of_a_story():
    text, links = html_to_text('<p>See <a href="https://example.com/a">this</a> &amp; that.</p><ul><li>one</li></ul>')
    assert text == "See this [1] & that.\n\n- one"
    assert links == [("[1]", "https://example.com/a")]
