"""Purges follow what changed: after every kind of change, each page that shows it shows the new
state, and the pages that do not show it are still served from the cache.

Black-box tests: pages are read through the test client, changes are made through the core's
services and the newsroom admin, exactly as the workflow, the workers and editors make them;
nothing here calls the page cache or names a purge. A change "commits" at the end of a
``committed()`` block, where its on-commit work runs (purges, and the publish run itself, with
Celery eager). A page is served from the cache when it is answered without a database query.
"""

import re
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from taggit.models import Tag

from digest import corrections, publishing, workflow
from digest.edition import store_issue_pdf
from digest.interchange import export_issue, import_issue
from digest.models import IssueState, RunState, Section
from digest.revisions import restore_revision
from tests.admin_forms import change_form_data
from tests.factories import (
    CompanyFactory,
    IssueFactory,
    PlacementFactory,
    SourceFactory,
    ThemeFactory,
    record_approval,
    user_in_role,
)

pytestmark = pytest.mark.django_db


# Reading pages ----------------------------------------------------------------------------


def get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response, len(queries)


def warm(client, *paths):
    """Load each page, and check it is now served from the cache (the control: a page never
    cached would show the new state without any purge)."""
    for path in paths:
        response, _ = get(client, path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
    for path in paths:
        _, queries = get(client, path)
        assert queries == 0, f"{path} is not served from the cache even right after loading it"


def assert_cached(client, *paths):
    """Each page is still served from the cache: nothing it shows changed, so it was not purged."""
    for path in paths:
        response, queries = get(client, path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        assert queries == 0, f"{path} shows nothing that changed, yet it was purged ({queries} queries)"


def assert_shows(client, path, *texts, absent=()):
    """The page shows each of ``texts`` and none of ``absent``: it shows the new state."""
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    page = response.content.decode()
    for text in texts:
        assert text in page, f"{path} does not show {text!r}: a stale page?"
    for text in absent:
        assert text not in page, f"{path} still shows {text!r}: a stale page?"


def assert_gone(client, *paths, status=404):
    for path in paths:
        assert client.get(path).status_code == status, f"{path} should answer {status}"


def issue_title(title):
    return f'<h1 id="issue-title">{title}</h1>'


# The site ---------------------------------------------------------------------------------


def placed(issue, title, companies, *, themes=(), tags=(), section=Section.TOP_STORIES, **story):
    """A story placed in ``issue``, with one source whose title is not the story's."""
    placement = PlacementFactory(
        issue=issue,
        section=section,
        story__title=title,
        story__companies=companies,
        story__themes=list(themes),
        story__sources=[],
        **{f"story__{name}": value for name, value in story.items()},
    )
    SourceFactory(story=placement.story, title=f"Notes on {placement.story.slug}", publisher="Engineering blog")
    placement.story.tags.add(*tags)
    return placement.story


@pytest.fixture
def site():
    """Three published issues, oldest first. The changes below are all about the third.

    first  (quiet):  "Quiet story" on Elsewhere, theme Quiet theme, tag quiet. Nothing changes
                     it and it is no neighbour of the third: its pages must stay cached.
    second:          "Old story" on Netflix and Datadog, theme Durable execution, tags envoy, kafka.
    third (latest, the home page), Amazn in its Week in Review:
                     Top Stories: "Lightbulb routing" on Netflix and Confluent, theme Data planes,
                     tag envoy, source "Envoy at scale";
                     Developing Threads: "Cell architecture" on Amazon, tag cells.
    """
    companies = {
        slug: CompanyFactory(name=name, slug=slug)
        for slug, name in [
            ("elsewhere", "Elsewhere"),
            ("netflix", "Netflix"),
            ("datadog", "Datadog"),
            ("confluent", "Confluent"),
            ("amazon", "Amazon"),
        ]
    }
    quiet_theme = ThemeFactory(name="Quiet theme", slug="quiet-theme")
    durable = ThemeFactory(name="Durable execution", slug="durable-execution")
    data_planes = ThemeFactory(name="Data planes", slug="data-planes")
    first = IssueFactory(published=True, title="First issue")
    second = IssueFactory(published=True, title="Second issue")
    third = IssueFactory(published=True, title="Third issue", week_in_review="Amazn shipped a new router.")
    placed(first, "Quiet story", [companies["elsewhere"]], themes=[quiet_theme], tags=["quiet"])
    placed(second, "Old story", [companies["netflix"], companies["datadog"]], themes=[durable], tags=["envoy", "kafka"])
    lightbulb = placed(
        third,
        "Lightbulb routing",
        [companies["netflix"], companies["confluent"]],
        themes=[data_planes],
        tags=["envoy"],
        summary="Requests are routed by the colour of a lightbulb.",
    )
    lightbulb.sources.update(title="Envoy at scale", url="https://blog.example.com/envoy-at-scale")
    cells = placed(
        third, "Cell architecture", [companies["amazon"]], tags=["cells"], section=Section.DEVELOPING_THREADS
    )
    return {
        "first": first,
        "second": second,
        "third": third,
        "lightbulb": lightbulb,
        "cells": cells,
        "durable": durable,
        "data_planes": data_planes,
        **companies,
    }


def url(issue):
    return issue.get_absolute_url()


# Pages that show nothing any change below makes (the first issue's world).
QUIET_PAGES = [
    "/companies/elsewhere/",
    "/companies/elsewhere/feed/",
    "/themes/quiet-theme/",
    "/themes/quiet-theme/feed/atom/",
    "/tags/quiet/",
]


def quiet(site):
    return [url(site["first"]), *QUIET_PAGES]


# Lists of the whole site.
SITE_LISTS = ["/", "/issues/", "/companies/", "/feed/", "/feed/atom/", "/sitemap.xml"]

# Every page of the third issue's stories' companies, themes and tags.
THIRD_TOPICS = [
    "/companies/netflix/",
    "/companies/netflix/feed/",
    "/companies/confluent/",
    "/companies/confluent/feed/atom/",
    "/companies/amazon/",
    "/companies/amazon/feed/",
    "/themes/data-planes/",
    "/themes/data-planes/feed/",
    "/themes/data-planes/feed/atom/",
    "/tags/envoy/",
    "/tags/cells/",
]


# Making changes ---------------------------------------------------------------------------


@pytest.fixture
def publisher():
    return user_in_role("Publisher")


@pytest.fixture
def newsroom(publisher):
    """A publisher logged in to the newsroom admin."""
    client = Client()
    client.force_login(publisher)
    return client


@contextmanager
def correcting(issue, by, note):
    """Make a change to a published issue as a correction: the change, then its note, in one transaction."""
    with transaction.atomic():
        yield
        corrections.record_correction(issue=issue, by=by, note=note)


def admin_save(newsroom, obj, **changes):
    """Save ``obj``'s admin change form with ``changes``, as a publisher would."""
    opts = obj._meta
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    response = newsroom.post(change_url, change_form_data(newsroom.get(change_url), **changes))
    assert response.status_code == 302, response.content.decode()[:3000]


def publish_through_the_run(committed, issue, by):
    with committed():
        run = publishing.publish(issue=issue, by=by)
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED, (run.state, run.last_error)


# Publishing, withdrawing, back to draft ---------------------------------------------------


def test_publishing_an_issue_shows_it_on_every_page_it_belongs_to(client, site, committed, publisher):
    fourth = IssueFactory(state=IssueState.APPROVED, title="Fourth issue")
    placed(
        fourth,
        "Brand new story",
        [site["netflix"], CompanyFactory(name="Newcomer", slug="newcomer")],
        themes=[site["data_planes"]],
        tags=["envoy"],
    )
    record_approval(fourth)  # approved as it stands now
    warm(client, *SITE_LISTS, *THIRD_TOPICS, url(site["third"]), *quiet(site))
    assert_gone(client, url(fourth), "/companies/newcomer/")

    publish_through_the_run(committed, fourth, publisher)

    assert_cached(client, *quiet(site))
    assert_shows(client, url(fourth), issue_title("Fourth issue"), "Brand new story")
    assert_shows(client, "/", issue_title("Fourth issue"), "Brand new story")
    assert_shows(client, "/issues/", "Fourth issue", "Brand new story")
    assert_shows(client, url(site["third"]), f'rel="next" href="{url(fourth)}"')
    assert_shows(client, "/companies/", "Newcomer")
    assert_shows(client, "/companies/newcomer/", "Brand new story")
    for path in ("/companies/netflix/", "/companies/netflix/feed/", "/themes/data-planes/", "/tags/envoy/"):
        assert_shows(client, path, "Brand new story")
    assert_shows(client, "/themes/data-planes/feed/atom/", "Brand new story")
    assert_shows(client, "/feed/", "Fourth issue", "Brand new story")
    assert_shows(client, "/feed/atom/", "Fourth issue")
    assert_shows(client, "/sitemap.xml", url(fourth), "/companies/newcomer/")


def test_withdrawing_an_issue_takes_it_off_every_page(client, site, committed, publisher):
    third = site["third"]
    warm(client, *SITE_LISTS, *THIRD_TOPICS, url(third), url(site["second"]), *quiet(site))

    with committed():
        workflow.withdraw(issue=third, by=publisher, comment="Legal asked us to.")

    assert_cached(client, *quiet(site))
    assert_gone(client, url(third), status=410)
    assert_shows(client, "/", issue_title("Second issue"), absent=["Third issue", "Lightbulb routing"])
    for path in ("/issues/", "/feed/", "/feed/atom/"):
        assert_shows(client, path, "Second issue", absent=["Third issue", "Lightbulb routing", "Cell architecture"])
    assert_shows(client, url(site["second"]), absent=["Third issue", 'rel="next"'])
    # Netflix and envoy are still on the second issue's story; the rest was only on the third.
    for path in ("/companies/netflix/", "/companies/netflix/feed/", "/tags/envoy/"):
        assert_shows(client, path, "Old story", absent=["Lightbulb routing"])
    assert_gone(
        client,
        "/companies/confluent/",
        "/companies/confluent/feed/atom/",
        "/companies/amazon/",
        "/companies/amazon/feed/",
        "/themes/data-planes/",
        "/themes/data-planes/feed/",
        "/themes/data-planes/feed/atom/",
        "/tags/cells/",
    )
    assert_shows(client, "/companies/", "Netflix", absent=["Confluent", "Amazon"])
    assert_shows(
        client,
        "/sitemap.xml",
        url(site["second"]),
        absent=[url(third), "/companies/confluent/", "/companies/amazon/", "/themes/data-planes/", "/tags/cells/"],
    )


def test_an_issue_back_to_draft_stays_hidden_and_shows_its_new_text_when_published_again(
    client, site, committed, publisher
):
    third, lightbulb = site["third"], site["lightbulb"]
    with committed():
        workflow.withdraw(issue=third, by=publisher, comment="Legal asked us to.")
    after_withdrawal = ["/", "/issues/", "/feed/", "/sitemap.xml", "/companies/netflix/", "/tags/envoy/"]
    warm(client, *after_withdrawal, *quiet(site))

    with committed():
        workflow.back_to_draft(issue=third, by=publisher, comment="To be rewritten.")
    assert_gone(client, url(third), status=404)  # a draft: no longer "withdrawn" (410) either
    assert_cached(client, *quiet(site))

    # Rewritten while a draft (no correction: it is not published), then published again.
    with committed():
        lightbulb.title = "Colour-coded routing"
        lightbulb.save()
    for path in after_withdrawal:
        assert_shows(client, path, absent=["Colour-coded routing", "Lightbulb routing"])
    with committed():
        workflow.send_to_review(issue=third, by=publisher)
        workflow.approve(issue=third, by=publisher)
    publish_through_the_run(committed, third, publisher)

    assert_cached(client, *quiet(site))
    assert_shows(client, url(third), issue_title("Third issue"), "Colour-coded routing")
    assert_shows(client, "/", issue_title("Third issue"), "Colour-coded routing")
    for path in ("/issues/", "/feed/", "/companies/netflix/", "/tags/envoy/"):
        assert_shows(client, path, "Colour-coded routing", absent=["Lightbulb routing"])
    assert_shows(client, "/sitemap.xml", url(third), "/companies/confluent/", "/themes/data-planes/")


# Corrections ------------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["service", "admin"])
def test_a_correction_of_the_issue_text_shows_on_its_page_home_archive_and_feeds(
    client, site, committed, publisher, newsroom, through
):
    third = site["third"]
    shown = ["/", "/issues/", "/feed/", "/feed/atom/", url(third), url(site["second"])]
    warm(client, *shown, *quiet(site))

    changes = {"title": "Third issue, corrected", "week_in_review": "Amazon shipped a new router."}
    with committed():
        if through == "admin":
            admin_save(newsroom, third, **changes, correction_note="Spelled Amazon right.")
        else:
            with correcting(third, publisher, "Spelled Amazon right."):
                for field, value in changes.items():
                    setattr(third, field, value)
                third.save()

    assert_cached(client, *quiet(site))
    for path in (url(third), "/"):
        assert_shows(client, path, issue_title("Third issue, corrected"), "Amazon shipped", "Spelled Amazon right.")
        assert_shows(client, path, absent=["Amazn"])
    assert_shows(client, "/issues/", "Third issue, corrected")
    for path in ("/feed/", "/feed/atom/"):
        assert_shows(client, path, "Third issue, corrected", "Amazon shipped", absent=["Amazn"])
    assert_shows(client, url(site["second"]), "Third issue, corrected")  # its "next issue" link


def test_a_corrected_story_title_and_summary_show_on_every_page_that_lists_the_story(client, site, committed, newsroom):
    third = site["third"]
    warm(client, *SITE_LISTS, *THIRD_TOPICS, url(third), *quiet(site))

    with committed():
        admin_save(
            newsroom,
            site["lightbulb"],
            title="Colour-coded routing",
            summary="Requests are routed by load, not by lightbulb colour.",
            correction_note="Explained the routing right.",
        )

    assert_cached(client, *quiet(site))
    new, old = ["Colour-coded routing", "not by lightbulb colour"], ["Lightbulb routing"]
    for path in (url(third), "/"):
        assert_shows(client, path, *new, "Explained the routing right.", absent=old)
    assert_shows(client, "/issues/", "Colour-coded routing", absent=old)  # a top story
    for path in (
        "/feed/",
        "/feed/atom/",
        "/companies/netflix/",
        "/companies/netflix/feed/",
        "/companies/confluent/",
        "/companies/confluent/feed/atom/",
        "/themes/data-planes/",
        "/themes/data-planes/feed/",
        "/themes/data-planes/feed/atom/",
        "/tags/envoy/",
    ):
        assert_shows(client, path, *new, absent=old)


def test_a_company_taken_off_a_story_no_longer_lists_it_and_one_added_does(client, site, committed, newsroom):
    third = site["third"]
    datadog_pages = ["/companies/datadog/", "/companies/datadog/feed/"]
    warm(client, *SITE_LISTS, *THIRD_TOPICS, *datadog_pages, url(third), *quiet(site))

    with committed():
        admin_save(
            newsroom,
            site["lightbulb"],
            companies=[str(site["datadog"].pk)],
            correction_note="Credited the right company.",
        )

    assert_cached(client, *quiet(site))
    for path in (url(third), "/"):
        assert_shows(client, path, "Datadog", "Credited the right company.", absent=["Netflix", "Confluent"])
    # Netflix is still on the second issue's story: its page stays, without this story.
    for path in ("/companies/netflix/", "/companies/netflix/feed/"):
        assert_shows(client, path, "Old story", absent=["Lightbulb routing"])
    assert_shows(client, "/companies/netflix/", absent=["Confluent"])  # "often covered alongside"
    # Confluent was only on this story: it is no longer covered at all.
    assert_gone(client, "/companies/confluent/", "/companies/confluent/feed/atom/")
    for path in datadog_pages:
        assert_shows(client, path, "Lightbulb routing", "Old story")
    assert_shows(client, "/companies/", "Datadog", absent=["Confluent"])
    assert_shows(client, "/sitemap.xml", "/companies/datadog/", absent=["/companies/confluent/"])
    for path in ("/themes/data-planes/", "/themes/data-planes/feed/", "/feed/"):  # they name each story's companies
        assert_shows(client, path, "Datadog", absent=["Confluent"])


def test_a_storys_new_themes_and_tags_list_it_and_the_old_ones_no_longer_do(client, site, committed, newsroom):
    third = site["third"]
    new_topics = ["/themes/durable-execution/", "/themes/durable-execution/feed/", "/tags/kafka/"]
    warm(client, *SITE_LISTS, *THIRD_TOPICS, *new_topics, url(third), *quiet(site))

    with committed():
        admin_save(
            newsroom,
            site["lightbulb"],
            themes=[str(site["durable"].pk)],
            tags="kafka",
            correction_note="Filed under the right theme and tag.",
        )

    assert_cached(client, *quiet(site))
    for path in (url(third), "/"):
        assert_shows(client, path, "Durable execution", "#kafka", absent=["Data planes", "#envoy"])
    for path in new_topics:
        assert_shows(client, path, "Lightbulb routing", "Old story")
    assert_shows(client, "/tags/envoy/", "Old story", absent=["Lightbulb routing"])
    assert_gone(client, "/themes/data-planes/", "/themes/data-planes/feed/", "/themes/data-planes/feed/atom/")
    assert_shows(client, "/sitemap.xml", "/themes/durable-execution/", absent=["/themes/data-planes/"])


def test_a_corrected_source_shows_on_the_issue_and_in_the_feeds(client, site, committed, newsroom):
    third = site["third"]
    feeds = [
        "/feed/",
        "/feed/atom/",
        "/companies/netflix/feed/",
        "/companies/confluent/feed/atom/",
        "/themes/data-planes/feed/",
    ]
    warm(client, url(third), "/", *feeds, *quiet(site))

    with committed():
        admin_save(
            newsroom,
            site["lightbulb"],
            **{"sources-0-title": "Envoy at scale, part two", "sources-0-url": "https://blog.example.com/envoy-2"},
            correction_note="Linked the right article.",
        )

    assert_cached(client, *quiet(site))
    for path in (url(third), "/", *feeds):
        assert_shows(client, path, "Envoy at scale, part two", "https://blog.example.com/envoy-2")
        assert_shows(client, path, absent=["envoy-at-scale"])


@pytest.mark.parametrize("change", ["moved", "removed"])
def test_a_placement_moved_or_removed_shows_on_the_issue_and_the_pages_of_its_story(
    client, site, committed, publisher, change
):
    third, cells = site["third"], site["cells"]
    amazon_pages = ["/companies/amazon/", "/companies/amazon/feed/", "/tags/cells/"]
    warm(client, *SITE_LISTS, *amazon_pages, url(third), *quiet(site))

    with committed(), correcting(third, publisher, f"A story was {change}."):
        placement = cells.placement
        if change == "moved":
            placement.section, placement.position = Section.TOP_STORIES, 99
            placement.save()
        else:
            placement.delete()

    assert_cached(client, *quiet(site))
    if change == "moved":
        # Developing Threads is empty now; the archive lists the top stories.
        for path in (url(third), "/", "/feed/", "/feed/atom/"):
            assert_shows(client, path, "Cell architecture", absent=["Developing Threads"])
        assert_shows(client, "/issues/", "Cell architecture")
    else:
        for path in (url(third), "/", "/feed/", "/feed/atom/"):
            assert_shows(client, path, "Lightbulb routing", absent=["Cell architecture"])
        assert_gone(client, *amazon_pages)  # Amazon and cells were only on this story
        assert_shows(client, "/companies/", "Netflix", absent=["Amazon"])
        assert_shows(client, "/sitemap.xml", "/companies/netflix/", absent=["/companies/amazon/", "/tags/cells/"])


def test_a_stored_pdf_shows_its_page_count_and_size_on_the_issue_page(client, site, committed):
    third = site["third"]
    warm(client, url(third), "/", "/issues/", *quiet(site))
    assert "PDF edition" not in client.get(url(third)).content.decode()

    with committed():
        assert store_issue_pdf(third) is True
    third.refresh_from_db()

    assert_cached(client, "/issues/", *quiet(site))  # the archive does not show the PDF
    pages = f", {third.pdf_pages} page{'s' if third.pdf_pages != 1 else ''}, {filesizeformat(third.pdf_size)}"
    for path in (url(third), "/"):
        assert_shows(client, path, f'{third.slug}.pdf" type="application/pdf">PDF edition</a>{pages}')


# Renames ----------------------------------------------------------------------------------


RENAMES = {
    # what, its old pages, its new name and slug, its new pages
    "company": (
        ["/companies/netflix/", "/companies/netflix/feed/", "/companies/netflix/feed/atom/"],
        ("Netflix Streaming", "netflix-streaming"),
        ["/companies/netflix-streaming/", "/companies/netflix-streaming/feed/"],
    ),
    "theme": (
        ["/themes/data-planes/", "/themes/data-planes/feed/", "/themes/data-planes/feed/atom/"],
        ("Data paths", "data-paths"),
        ["/themes/data-paths/", "/themes/data-paths/feed/atom/"],
    ),
    "tag": (["/tags/envoy/"], ("Envoy proxy", "envoy-proxy"), ["/tags/envoy-proxy/"]),
}


def renamed(site, what):
    return {"company": site["netflix"], "theme": site["data_planes"], "tag": Tag.objects.get(slug="envoy")}[what]


@pytest.mark.parametrize("what", RENAMES)
def test_a_renamed_company_theme_or_tag_shows_its_new_name_and_its_old_page_is_gone(
    client, site, committed, newsroom, what
):
    old_pages, (name, slug), new_pages = RENAMES[what]
    # Netflix and envoy are on both the second and third issues; Data planes only on the third.
    issues = [url(site["third"]), "/", url(site["second"])]
    lists = ["/companies/", "/sitemap.xml"]
    topics = ["/companies/confluent/", "/companies/datadog/", "/tags/envoy/", "/themes/data-planes/"]
    warm(client, *issues, *lists, *old_pages, *topics, *quiet(site))
    assert_gone(client, *new_pages)

    with committed():
        admin_save(newsroom, renamed(site, what), name=name, slug=slug, correction_note=f"Renamed to {name}.")

    assert_cached(client, *quiet(site))
    assert_gone(client, *old_pages)
    for path in new_pages:
        assert_shows(client, path, name)
    shown_in = issues if what != "theme" else issues[:2]
    for path in shown_in:
        assert_shows(client, path, name, f"Renamed to {name}.")
    assert_shows(client, "/sitemap.xml", f"/{slug}/", absent=[old_pages[0]])
    if what == "company":
        assert_shows(client, "/companies/", name, absent=['href="/companies/netflix/"'])
        # Pages that name Netflix beside their own stories: "often covered alongside", timelines.
        for path in ("/companies/confluent/", "/companies/datadog/", "/tags/envoy/", "/themes/data-planes/"):
            assert_shows(client, path, name, absent=['href="/companies/netflix/"'])


# Imports and restores ---------------------------------------------------------------------


def test_an_import_replacing_a_published_issue_shows_everywhere_as_a_correction(client, site, committed, publisher):
    third = site["third"]
    text = export_issue(third)
    text = text.replace("Amazn shipped", "Amazon shipped").replace("## Lightbulb routing", "## Colour-coded routing")
    text = text.replace("companies: Confluent, Netflix", "companies: Netflix")
    text = re.sub(r"## Cell architecture\n.*?(?=# Patterns)", "", text, flags=re.DOTALL)  # dropped from the issue
    assert "Cell architecture" not in text and "companies: Netflix\n" in text
    warm(client, *SITE_LISTS, *THIRD_TOPICS, url(third), *quiet(site))

    with committed():
        import_issue(text, replace=True, correction="Imported the corrected file.", by=publisher)

    assert_cached(client, *quiet(site))
    for path in (url(third), "/"):
        assert_shows(
            client,
            path,
            "Amazon shipped",
            "Colour-coded routing",
            "Imported the corrected file.",
            absent=["Lightbulb routing", "Cell architecture", "Confluent"],
        )
    for path in ("/issues/", "/feed/", "/feed/atom/"):
        assert_shows(client, path, "Colour-coded routing", absent=["Lightbulb routing", "Cell architecture"])
    for path in ("/companies/netflix/", "/companies/netflix/feed/", "/themes/data-planes/", "/tags/envoy/"):
        assert_shows(client, path, "Colour-coded routing", absent=["Lightbulb routing"])
    assert_gone(client, "/companies/confluent/", "/companies/amazon/", "/companies/amazon/feed/", "/tags/cells/")
    assert_shows(client, "/companies/", "Netflix", absent=["Confluent", "Amazon"])
    assert_shows(client, "/sitemap.xml", absent=["/companies/confluent/", "/companies/amazon/", "/tags/cells/"])


def test_a_restored_story_revision_shows_its_old_title_and_companies_again(client, site, committed, publisher):
    story, third = site["lightbulb"], site["third"]
    before = story.history.latest()
    assert before.title == "Lightbulb routing"
    with committed(), correcting(third, publisher, "Retitled."):
        story.title = "Colour-coded routing"
        story.save()
        story.companies.set([site["datadog"]])
    pages = ["/companies/netflix/", "/companies/datadog/", "/themes/data-planes/"]
    warm(client, url(third), "/", "/issues/", "/feed/", "/companies/", "/sitemap.xml", *pages, *quiet(site))
    assert_gone(client, "/companies/confluent/")  # no published story names it now

    with committed():
        restore_revision(obj=story, history_id=before.history_id, by=publisher)

    assert_cached(client, *quiet(site))
    for path in (url(third), "/"):
        assert_shows(client, path, "Lightbulb routing", "Restored", "Confluent", absent=["Colour-coded routing"])
    for path in ("/issues/", "/feed/", "/companies/netflix/", "/companies/confluent/", "/themes/data-planes/"):
        assert_shows(client, path, "Lightbulb routing", absent=["Colour-coded routing"])
    assert_shows(client, "/companies/datadog/", "Old story", absent=["Colour-coded routing", "Lightbulb routing"])
    assert_shows(client, "/companies/", "Confluent")
    assert_shows(client, "/sitemap.xml", "/companies/confluent/")


def test_a_restored_issue_revision_shows_its_old_text_again(client, site, committed, publisher):
    third = site["third"]
    before = third.history.latest()
    with committed(), correcting(third, publisher, "Spelled Amazon right."):
        third.week_in_review = "Amazon shipped a new router."
        third.save()
    warm(client, url(third), "/", "/feed/", *quiet(site))

    with committed():
        restore_revision(obj=third, history_id=before.history_id, by=publisher)

    assert_cached(client, *quiet(site))
    for path in (url(third), "/", "/feed/"):
        assert_shows(client, path, "Amazn shipped", absent=["Amazon shipped"])
    assert_shows(client, url(third), "Restored")


def test_the_quiet_pages_show_nothing_of_what_the_other_tests_change(client, site):
    """The premise of every "stayed cached" check: the quiet pages show nothing the other tests change.

    (The first issue's page names the second issue, its "next issue", whose title nothing here changes.)
    """
    shown_elsewhere = ["Third issue", "Netflix", "Datadog", "Lightbulb routing", "Data planes", "envoy"]
    for path in quiet(site):
        assert_shows(client, path, absent=shown_elsewhere)
