"""The counts a topic's page shows are stored under its purge key, computed once per change.

A busy company's page counted its 14,000 stories on every render (16 ms of 41 at scale 10);
now the first render after a change stores the figures (``reader.figures``) and the others
read them. These tests hold them to what the pages showed before: a change shows at once,
and no render ever stores a figure that a change committing meanwhile makes old.
"""

import datetime

import pytest

from digest import workflow
from reader import figures, keys
from reader.models import StoredFigures
from tests.concurrency import held_by_another_transaction
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, StoryFactory, ThemeFactory, user_in_role

pytestmark = pytest.mark.django_db


def uncached(path):
    return path + "?uncached=1"  # a query string the page cache never stores: the page is rendered


def stored(key):
    row = StoredFigures.objects.get(key=key)
    return row.figures if row.built_generation == row.generation else None


def test_a_company_page_stores_its_figures_and_shows_each_change_at_once(client, committed):
    acme = CompanyFactory(name="Acme", slug="acme")
    beta = CompanyFactory(name="Beta", slug="beta")
    with committed():
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme, beta])
    assert "1 story since" in client.get(uncached("/companies/acme/")).content.decode()
    figures = stored(keys.company_key(acme.pk))
    assert figures["coverage"]["count"] == 1 and figures["alongside-200"] == [[beta.pk, 1]]

    # A second published story: its publication purges Acme's key, and the count follows.
    with committed():
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme, beta])
    assert stored(keys.company_key(acme.pk)) is None  # stale from the change's commit
    page = client.get(uncached("/companies/acme/")).content.decode()
    assert "2 stories since" in page and "2 shared stories" in page
    assert stored(keys.company_key(acme.pk))["coverage"]["count"] == 2

    # Names are read with the companies, never stored: a rename shows at once.
    with committed():
        beta.name = "Beta Renamed"
        beta.save()
    assert "Beta Renamed" in client.get(uncached("/companies/acme/")).content.decode()


def test_a_subsidiary_made_public_shows_on_its_parents_page(client, committed):
    parent = CompanyFactory(name="Parent", slug="parent")
    child = CompanyFactory(name="Child", slug="child", parent=parent)
    with committed():
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[parent])
    assert "Child" not in client.get(uncached("/companies/parent/")).content.decode()
    with committed():
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[child])
    assert (
        '<dt>Owns</dt><dd><a href="/companies/child/">Child</a></dd>'
        in client.get(uncached("/companies/parent/")).content.decode()
    )


def test_a_withdrawn_issue_takes_its_stories_out_of_a_themes_count(client, committed):
    theme = ThemeFactory(name="Caching", slug="caching")
    kept = IssueFactory(published=True)
    withdrawn = IssueFactory(published=True)
    with committed():
        PlacementFactory(issue=kept, story__themes=[theme])
        PlacementFactory(issue=withdrawn, story__themes=[theme])
    assert "2 stories since" in client.get(uncached("/themes/caching/")).content.decode()
    with committed():
        workflow.withdraw(issue=withdrawn, by=user_in_role("Publisher"), comment="Published by mistake.")
    assert "1 story since" in client.get(uncached("/themes/caching/")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_render_while_a_change_is_uncommitted_neither_waits_nor_shows_it(client, postgresql):
    """A change holds no figure row: a render meanwhile serves the committed figures at once, and
    the first render after the commit (and its purge) counts again."""
    acme = CompanyFactory(name="Acme", slug="acme")
    PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme])
    assert "1 story since" in client.get(uncached("/companies/acme/")).content.decode()
    # An editor publishing a second story, not committed yet: a render meanwhile waits for nothing.
    with held_by_another_transaction(
        lambda: PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme])
    ):
        assert "1 story since" in client.get(uncached("/companies/acme/")).content.decode()
    assert "2 stories since" in client.get(uncached("/companies/acme/")).content.decode()
    assert stored(keys.company_key(acme.pk))["coverage"]["count"] == 2


def test_the_search_filters_follow_publications_and_withdrawals(client, committed):
    theme = ThemeFactory(name="Consensus", slug="consensus")
    with committed():
        PlacementFactory(issue=IssueFactory(published=True, week_start=datetime.date(2025, 3, 1)))
    form = client.get("/search/").content.decode()
    assert '<option value="2025">2025</option>' in form and "2024" not in form and "Consensus" not in form
    older = IssueFactory(published=True, week_start=datetime.date(2024, 3, 2))
    with committed():
        PlacementFactory(issue=older, story__themes=[theme])
    form = client.get("/search/").content.decode()
    assert '<option value="2024">2024</option>' in form and '<option value="consensus">Consensus</option>' in form
    assert "Consensus" in client.get("/search/?theme=consensus").content.decode()
    with committed():
        workflow.withdraw(issue=older, by=user_in_role("Publisher"), comment="Published by mistake.")
    form = client.get("/search/").content.decode()
    assert "2024" not in form and "Consensus" not in form
    assert client.get("/search/?theme=consensus").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_render_that_finds_stale_figures_locked_counts_without_waiting_or_storing(client, postgresql, committed):
    """A reviewer's find: a render inserted the key's row before locking it, and an insert waits
    for whoever holds the row. Now a render that finds the row held (by a purge's bump, or another render
    counting) counts what is committed at once and leaves the storing to the next one."""
    acme = CompanyFactory(name="Acme", slug="acme")
    PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme])
    assert "1 story since" in client.get(uncached("/companies/acme/")).content.decode()
    PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme])  # commits and bumps
    assert stored(keys.company_key(acme.pk)) is None
    # What a purge does, not committed yet: the render counts without waiting for it, or storing.
    with held_by_another_transaction(lambda: figures.mark_stale([keys.company_key(acme.pk)])):
        assert "2 stories since" in client.get(uncached("/companies/acme/")).content.decode()
        assert stored(keys.company_key(acme.pk)) is None  # counted, not stored
    assert "2 stories since" in client.get(uncached("/companies/acme/")).content.decode()
    assert stored(keys.company_key(acme.pk))["coverage"]["count"] == 2


def test_a_company_moved_to_another_parent_leaves_its_old_parents_page(client, committed):
    """A reviewer's find: a move purged the new parent's page only; the old one said "Owns" forever."""
    old, new = CompanyFactory(name="Old Parent", slug="old"), CompanyFactory(name="New Parent", slug="new")
    child = CompanyFactory(name="Child", slug="child", parent=old)
    with committed():
        for company in (old, new, child):
            PlacementFactory(issue=IssueFactory(published=True), story__companies=[company])
    assert "<dt>Owns</dt>" in client.get(uncached("/companies/old/")).content.decode()
    with committed():
        child.parent = new
        child.save()
    assert "<dt>Owns</dt>" not in client.get(uncached("/companies/old/")).content.decode()
    assert '<a href="/companies/child/">Child</a>' in client.get(uncached("/companies/new/")).content.decode()


def test_a_placement_given_another_story_takes_the_old_one_out_of_its_companys_count(client, committed):
    """A reviewer's find: only the stories a placement's issue holds now were purged, not the one it held."""
    acme = CompanyFactory(name="Acme", slug="acme")
    issue = IssueFactory(published=True)
    with committed():
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme])
        PlacementFactory(issue=issue, story__companies=[CompanyFactory()])
        placement = PlacementFactory(issue=issue, position=2, story__companies=[acme])
    assert "2 stories since" in client.get(uncached("/companies/acme/")).content.decode()
    with committed():
        placement.story = StoryFactory(title="Another story")
        placement.save()
    assert "1 story since" in client.get(uncached("/companies/acme/")).content.decode()


def test_figures_stored_by_an_earlier_release_are_counted_again(client, committed, monkeypatch):
    acme = CompanyFactory(name="Acme", slug="acme")
    with committed():
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme])
    client.get(uncached("/companies/acme/"))
    StoredFigures.objects.filter(key=keys.company_key(acme.pk)).update(
        figures={"version": figures.FIGURES_VERSION, "coverage": {"count": 99, "since": None}}
    )
    assert "99 stories" in client.get(uncached("/companies/acme/")).content.decode()  # stored figures are served
    monkeypatch.setattr(figures, "FIGURES_VERSION", figures.FIGURES_VERSION + 1)  # a release that counts anew
    assert "1 story since" in client.get(uncached("/companies/acme/")).content.decode()
