"""An issue page is served from its stored body: one query when uncached, and a body that
follows every change to what it shows, through the same keys that purge the page.

Changes are made through the newsroom admin and the core's services, as editors and workers
make them; a change "commits" at the end of a ``committed()`` block, where its on-commit work
runs (the purge, and the wake-up of the worker that rebuilds bodies, on eager Celery).
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from digest import corrections, protection, workflow
from digest.models import Section
from reader import tasks
from reader.models import StoredIssueBody
from tests.admin_forms import change_form_data
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, ThemeFactory, user_in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher():
    return user_in_role("Publisher")


@pytest.fixture
def site():
    """Three published issues in reading order; the middle one names Acme on a story."""
    acme = CompanyFactory(name="Acme", slug="acme")
    older = IssueFactory(published=True, title="Older issue")
    issue = IssueFactory(published=True, title="The issue", week_in_review="Acme shipped a router.")
    newer = IssueFactory(published=True, title="Newer issue")
    story = PlacementFactory(
        issue=issue,
        story__title="Routing by lightbulb",
        story__companies=[acme, CompanyFactory(name="Beta")],
        story__themes=[ThemeFactory(name="Data planes")],
    ).story
    story.tags.add("envoy")
    PlacementFactory(issue=issue, story__title="Cells", section=Section.DEVELOPING_THREADS)
    return {"acme": acme, "older": older, "issue": issue, "newer": newer}


def build_bodies():
    """What the beat does every minute (and what a change's commit wakes a worker for)."""
    tasks.rebuild_issue_bodies()


def stored(issue):
    return StoredIssueBody.objects.get(issue=issue)


def uncached(issue):
    # A query string the page cache never stores: the page is made from the database.
    return issue.get_absolute_url() + "?uncached=1"


def test_an_uncached_issue_page_is_its_stored_body_in_one_query_whatever_its_length(
    client, site, django_assert_num_queries
):
    long_issue = IssueFactory(published=True, title="A long issue")
    for position in range(30):
        PlacementFactory(issue=long_issue, position=position, story__companies=[CompanyFactory(), CompanyFactory()])
    build_bodies()
    for issue in (site["issue"], long_issue):
        assert stored(issue).is_current
        with django_assert_num_queries(1):
            page = client.get(uncached(issue))
        assert page.status_code == 200
        served = page.content.decode()
        assert f'<h1 id="issue-title">{issue.title}</h1>' in served and 'class="company"' in served
        # The stored body makes the same page as a fresh render from the database.
        StoredIssueBody.objects.filter(issue=issue).delete()
        assert client.get(uncached(issue)).content.decode() == served


def test_a_renamed_company_shows_its_new_name_in_the_stored_body(client, site, committed, publisher):
    build_bodies()
    untouched = stored(site["older"]).built_at
    newsroom = Client()
    newsroom.force_login(publisher)
    change_url = reverse("admin:companies_company_change", args=[site["acme"].pk])
    data = change_form_data(newsroom.get(change_url), name="Acme Cloud", slug="acme-cloud")
    with committed():
        response = newsroom.post(change_url, {**data, "correction_note": "Acme is now Acme Cloud."})
    assert response.status_code == 302, response.content.decode()[:2000]

    body = stored(site["issue"])
    assert body.is_current
    assert 'href="/companies/acme-cloud/">Acme Cloud</a>' in body.html
    assert "Acme is now Acme Cloud." in body.html  # the rename's correction, at the foot
    assert 'href="/companies/acme/"' not in body.html
    page = client.get(site["issue"].get_absolute_url()).content.decode()
    assert "Acme Cloud" in page and '"name": "Acme Cloud"' in page  # the page and its JSON-LD
    # Its neighbours only link to it by title: their bodies were not rebuilt.
    assert stored(site["older"]).built_at == untouched


def test_a_correction_stores_a_new_body(client, site, committed, publisher):
    build_bodies()
    issue = site["issue"]
    with committed(), transaction.atomic():
        issue.week_in_review = "Acme shipped two routers."
        issue.save()
        corrections.record_correction(issue=issue, by=publisher, note="There were two routers.")

    body = stored(issue)
    assert body.is_current
    assert "Acme shipped two routers." in body.html and "There were two routers." in body.html
    assert "There were two routers." in client.get(issue.get_absolute_url()).content.decode()


def test_a_withdrawn_issue_answers_410_and_its_body_is_gone_from_its_neighbours(client, site, committed, publisher):
    build_bodies()
    issue = site["issue"]
    assert "The issue" in stored(site["older"]).html  # the older issue links to the next one by title
    with committed():
        workflow.withdraw(issue=issue, by=publisher, comment="Legal asked us to.")

    assert client.get(issue.get_absolute_url()).status_code == 410
    assert client.get(uncached(issue)).status_code == 410
    assert not StoredIssueBody.objects.filter(issue=issue).exists()
    for neighbour in (site["older"], site["newer"]):
        body = stored(neighbour)
        assert body.is_current and "The issue" not in body.html
    assert "Newer issue" in stored(site["older"]).html  # its new next issue


def test_a_change_whose_wake_up_is_lost_is_rendered_fresh_until_the_beat_rebuilds_it(
    client, site, publisher, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    build_bodies()
    issue, acme = site["issue"], site["acme"]
    # The change commits, but nothing after its commit runs: no purge, no worker woken.
    with (
        django_capture_on_commit_callbacks(execute=False),
        protection.correcting_renames(obj=acme, by=publisher, note="Renamed."),
    ):
        acme.name = "Acme Systems"
        acme.save()

    assert not stored(issue).is_current  # the stale mark committed with the change
    page = client.get(uncached(issue)).content.decode()
    assert "Acme Systems" in page  # rendered afresh meanwhile, never the stale body

    build_bodies()  # the beat's minute
    assert stored(issue).is_current and "Acme Systems" in stored(issue).html
    with django_assert_max_num_queries(1):
        assert "Acme Systems" in client.get(uncached(issue)).content.decode()


def test_a_body_built_with_other_templates_is_not_served_and_is_rebuilt(client, site):
    build_bodies()
    issue = site["issue"]
    StoredIssueBody.objects.filter(issue=issue).update(template_hash="from-the-previous-release", html="OLD BODY")
    assert "OLD BODY" not in client.get(uncached(issue)).content.decode()
    build_bodies()
    assert stored(issue).is_current and "OLD BODY" not in stored(issue).html


def test_build_issue_bodies_builds_every_missing_body_and_all_rebuilds_current_ones(site):
    from django.core.management import call_command

    call_command("build_issue_bodies", stdout=None)
    bodies = StoredIssueBody.objects.filter(issue__in=[site["older"], site["issue"], site["newer"]])
    assert bodies.count() == 3 and all(body.is_current for body in bodies)
    built_at = {body.pk: body.built_at for body in bodies}

    call_command("build_issue_bodies", "--all", stdout=None)
    assert all(body.is_current and body.built_at > built_at[body.pk] for body in bodies.all())
