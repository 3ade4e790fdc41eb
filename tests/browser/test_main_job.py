"""The newsroom's main job in Chromium, counted: one story written → added to an issue → reviewed → published.

Every click and every typed field beyond the logins goes through a counter; the figure is
printed and written to var/figures/main-job.json. Issue 14's goal: at most 10 clicks.
"""

import json

import pytest
from django.conf import settings
from playwright.sync_api import expect

from digest.models import Issue, IssueState
from tests.browser.sessions import log_in
from tests.factories import CompanyFactory, IssueFactory, user_in_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIGURES = settings.BASE_DIR / "var" / "figures"
MOST_CLICKS = 10


class Counted:
    """Do what a person does on ``page`` — click, type into a field — and count it."""

    def __init__(self, tally, page):
        self.tally, self.page = tally, page

    def click(self, locator):
        self.tally["clicks"] += 1
        locator.click()

    def type(self, locator, text):
        self.tally["typed fields"] += 1
        locator.press_sequentially(text)  # key by key, as typed: the slug fills itself from the title

    def choose(self, field_id, search, option):
        """Pick from an autocomplete widget: open it, type a few letters, click the match."""
        self.click(self.page.locator(f"#{field_id} + .select2 .select2-selection"))
        self.tally["typed fields"] += 1
        self.page.keyboard.type(search)
        self.click(self.page.locator(".select2-results__option", has_text=option).first)


def test_one_story_from_writing_to_the_site_takes_at_most_ten_clicks(new_page, live_server):
    user_in_role("Editor", "ed")
    user_in_role("Publisher", "pat")
    CompanyFactory(name="Netflix", slug="netflix")
    issue = IssueFactory(number=42, title="Engineering @ Scale — Week 42", week_in_review="A week of routing.")
    tally = {"clicks": 0, "typed fields": 0}

    # The editor writes the story from the home page and adds it to this week's issue.
    ed = log_in(new_page(), live_server, "ed")
    by_ed = Counted(tally, ed)
    by_ed.click(ed.get_by_role("link", name="Write a story"))
    by_ed.type(ed.locator("#id_title"), "Netflix moves routing into headers")
    expect(ed.locator("#id_slug")).to_have_value("netflix-moves-routing-into-headers")
    by_ed.type(ed.locator("#id_summary"), "Routing keys now travel in **headers**.")
    by_ed.choose("id_companies", "Netf", "Netflix")
    by_ed.type(ed.locator("#id_sources-0-title"), "Lightbulb: routing at Netflix")
    by_ed.type(ed.locator("#id_sources-0-url"), "https://netflixtechblog.com/lightbulb")
    expect(ed.locator("#add-to-issue option:checked")).to_have_text("#42 Engineering @ Scale — Week 42")
    by_ed.click(ed.get_by_role("button", name="Save and add to issue"))
    expect(ed.locator(".messagelist")).to_contain_text("added to issue #42, last in Top Stories")
    expect(ed.locator("#placements-group")).to_contain_text("Netflix moves routing into headers")
    by_ed.click(ed.locator(".transition-send_to_review button"))
    expect(ed.locator(".workflow .state")).to_have_text("In review")

    # The publisher finds it awaiting review, approves and publishes it, and looks at the site.
    pat = log_in(new_page(), live_server, "pat")
    by_pat = Counted(tally, pat)
    by_pat.click(pat.locator("#awaiting-review").get_by_role("link", name="Week 42"))
    by_pat.click(pat.locator(".transition-approve button"))
    expect(pat.locator(".workflow .state")).to_have_text("Approved")
    by_pat.click(pat.locator(".transition-publish button"))
    expect(pat.locator(".workflow .state")).to_have_text("Published")
    by_pat.click(pat.get_by_role("link", name="View on site"))
    expect(pat.locator("h1")).to_have_text("Engineering @ Scale — Week 42")
    expect(pat.locator(".story-title")).to_have_text("Netflix moves routing into headers")
    assert pat.url == f"{live_server.url}/issues/{issue.slug}/"
    assert Issue.objects.get(pk=issue.pk).state == IssueState.PUBLISHED

    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / "main-job.json").write_text(json.dumps(tally) + "\n")
    clicks, typed = tally["clicks"], tally["typed fields"]
    print(f"\nThe main job, one story written to published: {clicks} clicks, {typed} typed fields")
    assert tally["clicks"] <= MOST_CLICKS
