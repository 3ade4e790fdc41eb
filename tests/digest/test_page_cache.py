"""The page cache: warm pages cost no query, and publishing, correcting or withdrawing an
issue followed by ``purge_issue_pages`` never leaves a stale page behind.

The editorial workflow (issue 3) calls the purge after each of these events commits; here
the events are simulated by changing the issue and calling the purge the same way.
"""

import pytest
from django.test import Client
from django.utils import timezone

from companies.models import Company
from digest.models import IssueState
from digest.page_cache import issue_page_paths, purge_issue_pages
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, ThemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    """Two published issues sharing a company, theme and tag, and an unrelated company."""
    netflix = CompanyFactory(name="Netflix", slug="netflix")
    confluent = CompanyFactory(name="Confluent", slug="confluent")
    unrelated = CompanyFactory(name="Unrelated", slug="unrelated")
    theme = ThemeFactory(name="Data planes", slug="data-planes")
    first = IssueFactory(published=True, title="First issue")
    second = IssueFactory(published=True, title="Second issue")
    old_story = PlacementFactory(issue=first, story__title="Old story", story__companies=[netflix, unrelated]).story
    story = PlacementFactory(
        issue=second, story__title="Lightbulb routing", story__companies=[netflix, confluent], story__themes=[theme]
    ).story
    story.tags.add("envoy")
    old_story.tags.add("envoy")
    return {"first": first, "second": second, "story": story, "netflix": netflix, "unrelated": unrelated}


PAGES = [
    "/",
    "/issues/",
    "/companies/",
    "/companies/netflix/",
    "/companies/confluent/",
    "/themes/data-planes/",
    "/tags/envoy/",
    "/feed/",
    "/feed/atom/",
    "/companies/netflix/feed/",
    "/themes/data-planes/feed/atom/",
    "/sitemap.xml",
    "/robots.txt",
]


def text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def warm(client, urls):
    for url in urls:
        text(client, url)


def test_warm_pages_are_served_without_touching_the_database(client, site, django_assert_num_queries):
    urls = [*PAGES, site["second"].get_absolute_url(), "/issues/?page=1"]
    warm(client, urls)
    for url in urls:
        with django_assert_num_queries(0):
            assert client.get(url).status_code == 200


def test_a_warm_page_answers_exactly_as_the_fresh_render_did(client, site, django_assert_num_queries):
    for url in (site["second"].get_absolute_url(), "/feed/", "/robots.txt"):
        fresh = client.get(url)
        with django_assert_num_queries(0):
            warm = client.get(url)
        assert warm.status_code == fresh.status_code == 200
        assert warm.content == fresh.content
        headers = {name: value for name, value in fresh.items() if name != "Date"}
        assert {name: value for name, value in warm.items() if name != "Date"} == headers
        assert int(warm["Content-Length"]) == len(warm.content)
        assert warm["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in warm["Content-Security-Policy"]
        assert not warm.cookies


def test_pages_carry_validators_and_answer_conditional_requests(client, site):
    url = site["second"].get_absolute_url()
    first = client.get(url)
    assert first["ETag"].startswith('"') and first["Last-Modified"]
    assert "no-cache" in first["Cache-Control"] and "public" in first["Cache-Control"]
    assert "unsafe-inline" not in first["Content-Security-Policy"]
    assert client.get(url)["Content-Security-Policy"] == first["Content-Security-Policy"]  # from the cache too
    not_modified = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_search_pages_also_answer_conditional_requests(client, site):
    first = client.get("/search/?q=routing")
    assert client.get("/search/?q=routing", headers={"If-None-Match": first["ETag"]}).status_code == 304


def test_without_a_purge_the_cache_keeps_serving_the_old_page(client, site):
    """The control for the tests below: the cache really is in the way until purged."""
    url = site["second"].get_absolute_url()
    assert "Lightbulb routing" in text(client, url)
    site["story"].title = "Corrected title"
    site["story"].save()
    assert "Lightbulb routing" in text(client, url)


def test_publishing_an_issue_updates_every_page_that_shows_it(client, site):
    warm(client, [*PAGES, site["second"].get_absolute_url()])
    third = IssueFactory(title="Third issue")
    PlacementFactory(
        issue=third,
        story__title="Brand new story",
        story__companies=[site["netflix"], CompanyFactory(name="Newcomer", slug="newcomer")],
    ).story.tags.add("envoy")
    # Publication, as the workflow does it: change the state, then purge once committed.
    third.state, third.published_at = IssueState.PUBLISHED, timezone.now()
    third.save()
    purge_issue_pages(third)
    assert '<h1 id="issue-title">Third issue</h1>' in text(client, "/")
    assert "Third issue" in text(client, "/issues/")
    assert "Newcomer" in text(client, "/companies/")
    assert "Brand new story" in text(client, "/companies/netflix/")
    assert "Brand new story" in text(client, "/tags/envoy/")
    assert "Third issue" in text(client, "/feed/")
    assert "Third issue" in text(client, "/feed/atom/")
    assert "Brand new story" in text(client, "/companies/netflix/feed/")
    assert third.get_absolute_url() in text(client, "/sitemap.xml")
    assert f'rel="next" href="{third.get_absolute_url()}"' in text(client, site["second"].get_absolute_url())


def test_a_correction_updates_the_issue_and_its_story_pages(client, site):
    story = site["story"]
    urls = [site["second"].get_absolute_url(), "/", "/companies/netflix/", "/themes/data-planes/", "/tags/envoy/"]
    warm(client, [*urls, "/companies/confluent/", "/feed/"])
    before = issue_page_paths(site["second"])
    story.title = "Lightbulb routing, corrected"
    story.save()
    story.companies.remove(Company.objects.get(slug="confluent"))
    purge_issue_pages(site["second"], previous_paths=before)
    for url in [*urls, "/feed/"]:
        assert "Lightbulb routing, corrected" in text(client, url), url
    # Confluent is no longer named by any published story: its page and its count are gone.
    assert client.get("/companies/confluent/").status_code == 404
    assert "Confluent" not in text(client, "/companies/")


def test_withdrawing_an_issue_removes_it_everywhere(client, site):
    second = site["second"]
    warm(client, [*PAGES, second.get_absolute_url(), site["first"].get_absolute_url()])
    second.state = IssueState.WITHDRAWN
    second.save()
    purge_issue_pages(second)
    assert client.get(second.get_absolute_url()).status_code == 410
    assert '<h1 id="issue-title">First issue</h1>' in text(client, "/")
    for url in ("/issues/", "/feed/", "/feed/atom/", "/companies/netflix/", "/tags/envoy/", "/companies/netflix/feed/"):
        page = text(client, url)
        assert "Second issue" not in page and "Lightbulb routing" not in page, url
    assert second.get_absolute_url() not in text(client, "/sitemap.xml")
    assert "Second issue" not in text(client, site["first"].get_absolute_url())
    assert client.get("/companies/confluent/").status_code == 404
    assert client.get("/themes/data-planes/").status_code == 404
    assert client.get("/themes/data-planes/feed/atom/").status_code == 404
    assert "Confluent" not in text(client, "/companies/")


def test_every_variant_of_a_purged_path_is_purged(client, site):
    for _ in range(20):
        IssueFactory(published=True)
    assert "First issue" in text(client, "/issues/?page=2")
    site["first"].title = "First issue, renamed"
    site["first"].save()
    purge_issue_pages(site["first"])
    assert "First issue, renamed" in text(client, "/issues/?page=2")


def test_the_purge_leaves_unrelated_pages_cached(client, site, django_assert_num_queries):
    third_company = CompanyFactory(slug="elsewhere")
    PlacementFactory(issue=site["first"], story__companies=[third_company])
    warm(client, ["/companies/elsewhere/", site["first"].get_absolute_url()])
    purge_issue_pages(site["second"])
    # The first issue is the second's neighbour (its "next" link), so it is purged; a
    # company only in the first issue is not.
    with django_assert_num_queries(0):
        client.get("/companies/elsewhere/")
    assert "/companies/elsewhere/" not in issue_page_paths(site["second"])
    assert site["first"].get_absolute_url() in issue_page_paths(site["second"])


def test_made_up_query_strings_are_not_cached(client, site, django_assert_max_num_queries):
    url = f"{site['second'].get_absolute_url()}?utm_source=x"
    text(client, url)
    site["story"].title = "Changed"
    site["story"].save()
    assert "Changed" in text(client, url)


def test_the_publication_run_purges_the_pages_it_changes(client, site):
    """Through the workflow's own publish run, not a simulated one."""
    from digest import publishing, workflow
    from tests.factories import user_in_role

    warm(client, ["/", "/issues/", "/companies/netflix/", "/feed/", site["second"].get_absolute_url()])
    third = IssueFactory(state=IssueState.APPROVED, title="Third issue")
    PlacementFactory(issue=third, story__title="Brand new story", story__companies=[site["netflix"]])
    run = workflow.publish(issue=third, by=user_in_role("Publisher"))
    publishing.advance_run(run.pk)
    assert '<h1 id="issue-title">Third issue</h1>' in text(client, "/")
    assert "Third issue" in text(client, "/issues/") and "Third issue" in text(client, "/feed/")
    assert "Brand new story" in text(client, "/companies/netflix/")
    assert f'rel="next" href="{third.get_absolute_url()}"' in text(client, site["second"].get_absolute_url())


def test_workflow_withdrawal_and_correction_purge_the_pages(client, site, django_capture_on_commit_callbacks):
    """The workflow's own withdraw and record_correction queue the purge on commit."""
    from digest import workflow
    from tests.factories import user_in_role

    publisher = user_in_role("Publisher")
    first_url, second_url = site["first"].get_absolute_url(), site["second"].get_absolute_url()
    warm(client, [first_url, "/", "/companies/netflix/"])
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_correction(issue=site["first"], by=publisher, note="Fixed a company name.")
    assert "Fixed a company name." in text(client, first_url)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.withdraw(issue=site["second"], by=publisher, comment="Legal asked us to.")
    assert client.get(second_url).status_code == 410
    assert '<h1 id="issue-title">First issue</h1>' in text(client, "/")
    assert "Lightbulb routing" not in text(client, "/companies/netflix/")


def test_a_correction_taking_a_company_off_a_story_updates_that_companys_page(
    client, site, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.admin_forms import change_form_data
    from tests.factories import user_in_role

    publisher = Client()
    publisher.force_login(user_in_role("Publisher"))
    story, netflix = site["story"], site["netflix"]
    assert "Lightbulb routing" in text(client, "/companies/confluent/")  # warm: the story names Confluent
    url = reverse("admin:stories_story_change", args=[story.pk])
    data = change_form_data(
        publisher.get(url), companies=[str(netflix.pk)], correction_note="Confluent was not involved."
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = publisher.post(url, data)
    assert response.status_code == 302
    assert client.get("/companies/confluent/").status_code == 404  # its only public story no longer names it
    assert "Confluent" not in text(client, "/companies/")
    assert "Confluent was not involved." in text(client, site["second"].get_absolute_url())
