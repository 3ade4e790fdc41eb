import datetime
import json
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from companies.models import Company
from digest.models import Issue, IssueState, Section
from stories.models import Story
from tests.factories import (
    CompanyFactory,
    IssueFactory,
    PlacementFactory,
    StoryFactory,
    ThemeFactory,
    issue_with_stories,
)

pytestmark = pytest.mark.django_db

UNPUBLISHED_STATES = (IssueState.DRAFT, IssueState.IN_REVIEW, IssueState.APPROVED, IssueState.SCHEDULED)


@pytest.fixture
def demo_issue():
    call_command("load_demo", "--no-admin", stdout=None)
    return Issue.objects.get(slug="2026-04-18")


def html_of(response):
    return response.content.decode()


def test_home_shows_the_whole_demo_issue(client, demo_issue):
    response = client.get("/")
    html = html_of(response)
    assert response.status_code == 200
    assert demo_issue.title in html
    for heading in ("Week in Review", "Top Stories", "Developing Threads", "Patterns Across Companies"):
        assert f">{heading}</h2>" in html
    for story in Story.objects.all():
        assert story.title.replace("&", "&amp;") in html
        for company in story.companies.all():
            assert f'href="/companies/{company.slug}/">{company.name}</a>' in html
    assert "The dominant engineering theme this week" in html
    assert "A defining pattern this week" in html
    assert html.index("Offline Generation") < html.index("Standardizing Agent") < html.index("A defining pattern")
    # The home page is the latest issue, but the issue's own address is its canonical one.
    assert '<link rel="canonical" href="http://testserver/issues/2026-04-18/">' in html


def test_issue_page_names_its_week_publication_and_reading_time(client, demo_issue):
    html = html_of(client.get("/issues/2026-04-18/"))
    assert "Issue 1" in html
    assert "18 April 2026" in html and "1 May 2026" in html
    assert f'Published <time datetime="{demo_issue.published_at.date().isoformat()}T' in html
    minutes = int(re.search(r"(\d+) min read", html).group(1))
    assert 2 <= minutes <= 6  # the demo issue is about 900 words


def test_contents_list_links_to_every_section_and_story(client, demo_issue):
    html = html_of(client.get(demo_issue.get_absolute_url()))
    contents = html[html.index('<nav class="contents"') : html.index("</nav>", html.index('<nav class="contents"'))]
    targets = re.findall(r'href="#([^"]+)"', contents)
    assert targets[0] == "week-in-review" and targets[-1] == "patterns"
    assert "top-stories" in targets and "developing-threads" in targets
    for story in Story.objects.all():
        assert story.slug in targets
    for target in targets:
        assert html.count(f'id="{target}"') == 1


def test_story_shows_companies_themes_tags_and_linked_sources(client):
    theme = ThemeFactory(name="Durable execution", slug="durable-execution")
    company = CompanyFactory(name="Airbnb", slug="airbnb")
    story = PlacementFactory(
        issue=IssueFactory(published=True), story__companies=[company], story__themes=[theme]
    ).story
    story.tags.set(["workflows"])
    source = story.sources.get()
    html = html_of(client.get(story.placement.issue.get_absolute_url()))
    assert f'id="{story.slug}"' in html
    assert '<a class="company" href="/companies/airbnb/">Airbnb</a>' in html
    assert '<a class="theme" href="/themes/durable-execution/">Durable execution</a>' in html
    assert '<a class="tag" href="/tags/workflows/">#workflows</a>' in html
    assert f'<span class="publisher">{source.publisher}:</span> <a href="{source.url}"' in html


def test_previous_and_next_issue_skip_unpublished_ones(client):
    first = IssueFactory(published=True, title="First issue")
    IssueFactory(title="Draft between")
    second = IssueFactory(published=True, title="Second issue")
    IssueFactory(state=IssueState.WITHDRAWN, published_at=timezone.now(), title="Withdrawn after")
    third = IssueFactory(published=True, title="Third issue")
    html = html_of(client.get(second.get_absolute_url()))
    assert f'rel="prev" href="{first.get_absolute_url()}"' in html
    assert f'rel="next" href="{third.get_absolute_url()}"' in html
    assert "Draft between" not in html and "Withdrawn after" not in html
    first_html = html_of(client.get(first.get_absolute_url()))
    assert 'class="pager-previous"' not in first_html


def test_pdf_edition_is_linked_with_its_pages_and_size(client, demo_issue):
    demo_issue.refresh_from_db()
    html = html_of(client.get(demo_issue.get_absolute_url()))
    assert (
        f'<a href="/issues/2026-04-18.pdf" type="application/pdf">PDF edition</a>, {demo_issue.pdf_pages} pages' in html
    )
    assert "\xa0KB" in html[html.index("PDF edition") :][:120]
    # An issue whose PDF is not stored yet has no link.
    assert "PDF edition" not in html_of(client.get(IssueFactory(number=99, published=True).get_absolute_url()))


@pytest.mark.parametrize("state", [*UNPUBLISHED_STATES])
def test_unpublished_issues_are_not_found(client, state):
    issue = IssueFactory(state=state, title=f"Secret {state}")
    response = client.get(issue.get_absolute_url())
    assert response.status_code == 404
    assert "Secret" not in html_of(response)
    assert "Page not found" in html_of(response)


def test_scheduled_issue_before_its_time_is_not_found(client):
    issue = IssueFactory(
        state=IssueState.PUBLISHED, published_at=timezone.now() + datetime.timedelta(hours=1), title="Future"
    )
    assert client.get(issue.get_absolute_url()).status_code == 404
    assert "Future" not in html_of(client.get("/"))


def test_withdrawn_issue_is_gone_without_its_content(client):
    issue = IssueFactory(state=IssueState.WITHDRAWN, published_at=timezone.now(), title="Taken down")
    response = client.get(issue.get_absolute_url())
    assert response.status_code == 410
    html = html_of(response)
    assert "This issue has been withdrawn" in html and "Taken down" not in html
    assert '<link rel="stylesheet"' in html  # in the site's design


def test_server_errors_get_a_page_in_the_site_design(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    html = html_of(response)
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and 'href="/static/css/site.css"' in html


def test_unknown_addresses_get_the_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in html_of(response) and 'href="/issues/"' in html_of(response)


def test_home_without_a_published_issue_says_so(client):
    IssueFactory(title="Draft only")
    response = client.get("/")
    assert response.status_code == 200
    assert "has not been published" in html_of(response) and "Draft only" not in html_of(response)


def test_latest_published_issue_is_the_home_page(client):
    IssueFactory(published=True, title="Older issue")
    IssueFactory(published=True, title="Newer issue")
    IssueFactory(title="Newest draft")
    html = html_of(client.get("/"))
    assert '<h1 id="issue-title">Newer issue</h1>' in html
    assert "Previous issue</span> Older issue" in html and "Newest draft" not in html


def test_issue_page_takes_at_most_ten_queries_with_forty_stories(client, django_assert_max_num_queries):
    IssueFactory(published=True)  # a previous issue, so prev/next are real lookups
    large = issue_with_stories(top=25, threads=15, published=True)
    for placement in large.placements.all():
        placement.story.themes.add(ThemeFactory())
        placement.story.tags.add("scale", f"tag-{placement.pk}")
        placement.story.companies.add(CompanyFactory())
    with django_assert_max_num_queries(10):
        response = client.get(large.get_absolute_url())
    assert response.status_code == 200
    assert html_of(response).count('class="story"') == 40


def test_issue_page_query_count_does_not_grow_with_stories(
    client, django_assert_num_queries, django_assert_max_num_queries
):
    small = issue_with_stories(top=2, threads=1, published=True)
    large = issue_with_stories(top=25, threads=15, published=True)
    # Issue, placements, companies, themes, tags, sources, corrections, previous, next.
    with django_assert_max_num_queries(9) as small_queries:
        small_response = client.get(small.get_absolute_url())
    with django_assert_num_queries(len(small_queries.captured_queries)):
        large_response = client.get(large.get_absolute_url())
    # A 404 at both sizes would count the same: the pages must be the real ones.
    assert (small_response.status_code, large_response.status_code) == (200, 200)


def test_summaries_and_titles_are_escaped_or_sanitised(client):
    story = PlacementFactory(issue=IssueFactory(published=True)).story
    story.title = "<script>alert('title')</script>"
    story.summary = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    story.save()
    html = html_of(client.get(story.placement.issue.get_absolute_url()))
    assert "<script>alert" not in html
    assert 'href="javascript:' not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_meta_tags_and_json_ld_escape_editor_text(client):
    issue = IssueFactory(
        published=True,
        title='Quotes " and </script><script>alert(1)</script>',
        week_in_review='He said "hi" & left </script>',
    )
    html = html_of(client.get(issue.get_absolute_url()))
    assert "<script>alert(1)" not in html
    og_title = re.search(r'<meta property="og:title" content="([^"]*)">', html).group(1)
    assert og_title == "Quotes &quot; and &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert [attributes for attributes, _ in scripts] == [' type="application/ld+json"']
    data = json.loads(scripts[0][1])
    assert data["@type"] == "PublicationIssue" and data["name"] == issue.title
    assert data["url"] == f"http://testserver{issue.get_absolute_url()}"


def test_text_taken_from_rendered_markdown_is_escaped_once(client):
    """A reader's find: the timelines' summaries and the issue page's description were cut from
    the rendered HTML with its entities still in, then escaped again: "AT&T" read "AT&amp;T"."""
    company = CompanyFactory(name="AT&T", slug="att")
    issue = IssueFactory(published=True, week_in_review="AT&T and R&D: <b> is not a tag here.")
    PlacementFactory(issue=issue, story__summary="AT&T's R&D on `a < b`.", story__companies=[company])
    timeline = html_of(client.get("/companies/att/"))
    assert '<p class="timeline-summary">AT&amp;T&#x27;s R&amp;D on a &lt; b.</p>' in timeline
    page = html_of(client.get(issue.get_absolute_url()))
    description = re.search(r'<meta name="description" content="([^"]*)">', page).group(1)
    assert description == "AT&amp;T and R&amp;D: &lt;b&gt; is not a tag here."
    assert "&amp;amp;" not in timeline + page


def test_issue_page_has_open_graph_and_twitter_tags(client, demo_issue):
    html = html_of(client.get(demo_issue.get_absolute_url()))
    assert '<meta property="og:type" content="article">' in html
    assert f'<meta property="og:url" content="http://testserver{demo_issue.get_absolute_url()}">' in html
    assert '<meta property="og:description" content="The dominant engineering theme' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<link rel="alternate" type="application/rss+xml"' in html
    assert '<link rel="alternate" type="application/atom+xml"' in html


def test_pages_have_no_inline_scripts_or_styles(client, demo_issue):
    for url in ("/", "/issues/", "/companies/", "/companies/amazon/", "/search/?q=kafka"):
        html = html_of(client.get(url))
        assert "<style" not in html and " style=" not in html
        for attributes in re.findall(r"<script([^>]*)>", html):
            assert attributes == ' type="application/ld+json"'
        assert not re.search(r"<[^>]+\son[a-z]+=", html), "no event handler attributes"


# Archive


def test_archive_groups_issues_by_year_newest_first_with_top_stories(client):
    old = IssueFactory(published=True, week_start=datetime.date(2025, 12, 1), week_end=datetime.date(2025, 12, 7))
    new = IssueFactory(published=True, week_start=datetime.date(2026, 1, 5), week_end=datetime.date(2026, 1, 11))
    top = PlacementFactory(issue=new, section=Section.TOP_STORIES).story
    thread = PlacementFactory(issue=new, section=Section.DEVELOPING_THREADS).story
    IssueFactory(title="Draft issue", week_start=datetime.date(2026, 2, 1), week_end=datetime.date(2026, 2, 7))
    html = html_of(client.get("/issues/"))
    assert html.index(">2026</h2>") < html.index(new.title) < html.index(">2025</h2>") < html.index(old.title)
    assert f'href="{new.get_absolute_url()}#{top.slug}">{top.title}</a>' in html
    assert thread.title not in html
    assert "Draft issue" not in html


def test_archive_is_paginated_and_bad_pages_are_not_found(client):
    for _ in range(23):
        IssueFactory(published=True)
    first = html_of(client.get("/issues/"))
    assert first.count('class="archive-issue"') == 20 and "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = client.get("/issues/?page=2")
    assert html_of(second).count('class="archive-issue"') == 3
    for page in ("3", "0", "-1", "abc", "1.5", "9" * 30):
        response = client.get(f"/issues/?page={page}")
        assert response.status_code == 404, page
        assert "Page not found" in html_of(response)


def test_archive_queries_are_bounded(client, django_assert_num_queries):
    issue_with_stories(top=2, published=True)
    with django_assert_num_queries(3):
        assert client.get("/issues/").status_code == 200
    for _ in range(10):
        issue_with_stories(top=4, published=True)
    cache.clear()  # measure the rendering, not the page cache
    with django_assert_num_queries(3):
        assert client.get("/issues/").status_code == 200


# Companies


def test_company_index_lists_public_companies_a_to_z_with_counts(client):
    amazon = CompanyFactory(name="Amazon", slug="amazon")
    netflix = CompanyFactory(name="Netflix", slug="netflix")
    hidden = CompanyFactory(name="Hidden Co", slug="hidden-co")
    published = IssueFactory(published=True)
    PlacementFactory(issue=published, story__companies=[amazon, netflix])
    PlacementFactory(issue=published, story__companies=[amazon])
    PlacementFactory(issue=IssueFactory(), story__companies=[amazon, hidden])
    html = html_of(client.get("/companies/"))
    assert html.index(">Amazon</a>") < html.index(">Netflix</a>")
    assert '<a href="/companies/amazon/">Amazon</a> <span class="count">2 stories</span>' in html
    assert '<a href="/companies/netflix/">Netflix</a> <span class="count">1 story</span>' in html
    assert "Hidden Co" not in html


def test_company_index_is_paged_and_split_by_letter(client, monkeypatch):
    monkeypatch.setattr("reader.views.COMPANY_INDEX_PAGE_SIZE", 2)
    issue = IssueFactory(published=True)
    for name in ("Apple", "airbnb", "Amazon", "Netflix", "3M", "Économie", "Zeta Hidden"):
        PlacementFactory(
            issue=issue if name != "Zeta Hidden" else IssueFactory(), story__companies=[CompanyFactory(name=name)]
        )

    def names(url):
        response = client.get(url)
        assert response.status_code == 200, url
        return re.findall(r'<li><a href="/companies/[^"]+/">([^<]+)</a>', response.content.decode())

    assert names("/companies/") == ["3M", "Économie"]  # "#" first: names that do not start with A to Z
    assert names("/companies/?page=2") == ["airbnb", "Amazon"]
    assert names("/companies/?page=3") == ["Apple", "Netflix"]
    assert names("/companies/?letter=A") == ["airbnb", "Amazon"]
    assert names("/companies/?letter=a&page=2") == ["Apple"]
    assert names("/companies/?letter=%23") == ["3M", "Économie"]
    html = client.get("/companies/?letter=A").content.decode()
    assert "3 companies covered so far under A" in html
    assert 'href="?letter=A&amp;page=2"' in html and "Next →" in html
    assert 'href="/companies/?letter=A" aria-current="page">A</a>' in html
    assert "No company covered so far is listed under Z." in client.get("/companies/?letter=Z").content.decode()
    assert client.get("/companies/?letter=AB").status_code == 404
    assert client.get("/companies/?page=4").status_code == 404


def test_company_page_tells_its_story(client):
    amazon = CompanyFactory(name="Amazon", slug="amazon", description="Retail & cloud.")
    aws = CompanyFactory(name="AWS", slug="aws", parent=amazon)
    CompanyFactory(name="Secret Sub", slug="secret-sub", parent=amazon)
    netflix = CompanyFactory(name="Netflix", slug="netflix")
    older = IssueFactory(published=True, week_start=datetime.date(2025, 3, 1), week_end=datetime.date(2025, 3, 7))
    newer = IssueFactory(published=True, week_start=datetime.date(2026, 4, 18), week_end=datetime.date(2026, 5, 1))
    first = PlacementFactory(issue=older, story__title="Older story", story__companies=[amazon, netflix]).story
    second = PlacementFactory(issue=newer, story__title="Newer story", story__companies=[amazon, netflix]).story
    PlacementFactory(issue=newer, story__title="AWS story", story__companies=[aws, amazon])
    PlacementFactory(issue=IssueFactory(), story__title="Draft story", story__companies=[amazon])
    html = html_of(client.get("/companies/amazon/"))
    assert "Retail &amp; cloud." in html
    assert f'href="{amazon.website}"' in html
    assert '<dt>Owns</dt><dd><a href="/companies/aws/">AWS</a></dd>' in html
    assert "Secret Sub" not in html  # a subsidiary with no published story stays private
    assert "3 stories since" in html and "March 2025" in html
    assert html.index("Newer story") < html.index("AWS story") < html.index("Older story")
    assert f'href="{second.placement.issue.get_absolute_url()}#{second.slug}"' in html
    assert f"Issue {first.placement.issue.number}" in html
    assert "Draft story" not in html
    alongside = html[html.index("Often covered alongside") :]
    assert alongside.index("Netflix") < alongside.index("AWS")
    assert "2 shared stories" in alongside
    aws_html = html_of(client.get("/companies/aws/"))
    assert '<dt>Part of</dt><dd><a href="/companies/amazon/">Amazon</a></dd>' in aws_html
    assert 'href="/companies/aws/feed/"' in aws_html


def test_company_timeline_pages_through_every_published_story_newest_first(client, monkeypatch):
    monkeypatch.setattr("reader.views.TIMELINE_PAGE_SIZE", 2)
    acme = CompanyFactory(name="Acme", slug="acme")
    expected = []  # newest week first, then reading order: Top Stories before Developing Threads
    for _ in range(3):  # the factory gives each issue a later week
        issue = IssueFactory(published=True)
        placed = [
            PlacementFactory(issue=issue, section=Section.DEVELOPING_THREADS, position=0, story__companies=[acme]),
            PlacementFactory(issue=issue, section=Section.TOP_STORIES, position=5, story__companies=[acme]),
        ]
        expected = [placed[1].story.title, placed[0].story.title, *expected]
    PlacementFactory(issue=IssueFactory(), story__title="Draft story", story__companies=[acme])

    shown = []
    for page in (1, 2, 3):
        html = html_of(client.get(f"/companies/acme/?page={page}"))
        assert "6 stories since" in html
        titles = re.findall(r'<h3 class="timeline-title"><a [^>]*>([^<]*)</a>', html)
        assert len(titles) == 2
        shown += titles
    assert shown == expected
    assert client.get("/companies/acme/?page=4").status_code == 404
    assert client.get("/companies/acme/?page=zero").status_code == 404


def test_often_covered_alongside_counts_a_companys_latest_stories(client, monkeypatch):
    monkeypatch.setattr("reader.views.ALONGSIDE_WINDOW", 2)
    acme, old_partner, new_partner = (CompanyFactory(name=name) for name in ("Acme", "Old Partner", "New Partner"))
    for partner in (old_partner, old_partner, new_partner, new_partner):  # oldest first
        PlacementFactory(issue=IssueFactory(published=True), story__companies=[acme, partner])
    html = html_of(client.get(acme.get_absolute_url()))
    alongside = html[html.index("Often covered alongside") :]
    assert "In its latest 2 stories." in alongside
    assert 'New Partner</a> <span class="count">2 shared stories</span>' in alongside
    assert "Old Partner" not in alongside
    monkeypatch.setattr("reader.views.ALONGSIDE_WINDOW", 200)
    cache.clear()
    html = html_of(client.get(acme.get_absolute_url()))
    assert "In its latest" not in html and "Old Partner" in html


def test_company_with_only_unpublished_stories_is_not_found(client):
    company = Company.objects.create(name="Hidden", slug="hidden")
    PlacementFactory(issue=IssueFactory(), story__companies=[company])
    assert client.get("/companies/hidden/").status_code == 404
    assert client.get("/companies/hidden/feed/").status_code == 404
    assert client.get("/companies/nobody/").status_code == 404


def _company_with_stories(count):
    company = CompanyFactory()
    for _ in range(count):
        issue = IssueFactory(published=True)
        PlacementFactory(issue=issue, story__companies=[company, CompanyFactory()])
    return company


def test_company_and_index_pages_have_bounded_queries(client, django_assert_num_queries):
    small, large = _company_with_stories(1), _company_with_stories(12)
    for company in (small, large):  # the first render stores the page's figures (reader.figures)
        assert client.get(company.get_absolute_url() + "?uncached=1").status_code == 200
    for company in (small, large):
        # The company, its stored figures, the page's story ids, those stories, their companies,
        # the companies the figures name (covered alongside).
        with django_assert_num_queries(6):
            assert client.get(company.get_absolute_url() + "?uncached=1").status_code == 200
    with django_assert_num_queries(3):  # how many, the page of them, their story counts
        assert client.get("/companies/").status_code == 200


# Themes and tags


def test_theme_page_lists_published_stories_newest_first(client):
    theme = ThemeFactory(name="Durable execution", slug="durable-execution", description="Workflows that survive.")
    older = IssueFactory(published=True)
    newer = IssueFactory(published=True)
    PlacementFactory(issue=older, story__title="Older durable", story__themes=[theme])
    PlacementFactory(issue=newer, story__title="Newer durable", story__themes=[theme])
    PlacementFactory(issue=IssueFactory(), story__title="Draft durable", story__themes=[theme])
    html = html_of(client.get("/themes/durable-execution/"))
    assert "Workflows that survive." in html and "2 stories since" in html
    assert html.index("Newer durable") < html.index("Older durable")
    assert "Draft durable" not in html
    assert 'href="/themes/durable-execution/feed/atom/"' in html


def test_tag_page_lists_published_stories(client):
    shown = PlacementFactory(issue=IssueFactory(published=True), story__title="Kafka headers").story
    hidden = PlacementFactory(issue=IssueFactory(), story__title="Draft kafka").story
    shown.tags.add("kafka")
    hidden.tags.add("kafka", "secret-tag")
    html = html_of(client.get("/tags/kafka/"))
    assert "#kafka" in html and "Kafka headers" in html and "Draft kafka" not in html
    assert client.get("/tags/secret-tag/").status_code == 404


def test_any_tag_name_gets_a_working_page(client):
    story = PlacementFactory(issue=IssueFactory(published=True), story__title="Tokyo region").story
    story.tags.add("日本", "c++", "++")
    response = client.get(story.placement.issue.get_absolute_url())
    assert response.status_code == 200
    html = html_of(response)
    assert '<a class="tag" href="/tags/%E6%97%A5%E6%9C%AC/">#日本</a>' in html
    assert "#++" in html
    assert "Tokyo region" in html_of(client.get("/tags/%E6%97%A5%E6%9C%AC/"))
    assert "/tags/%E6%97%A5%E6%9C%AC/" in html_of(client.get("/sitemap.xml"))


def test_theme_only_in_drafts_is_not_found(client):
    theme = ThemeFactory(slug="secret-theme")
    PlacementFactory(issue=IssueFactory(), story__themes=[theme])
    assert client.get("/themes/secret-theme/").status_code == 404
    assert client.get("/themes/secret-theme/feed/").status_code == 404


def test_theme_and_tag_pages_have_bounded_queries(client, django_assert_num_queries):
    theme = ThemeFactory()
    for count in (1, 10):
        for _ in range(count):
            story = PlacementFactory(issue=IssueFactory(published=True), story__themes=[theme]).story
            story.tags.add("scale")
        cache.clear()
        for path in (theme.get_absolute_url(), "/tags/scale/"):
            assert client.get(path + "?uncached=1").status_code == 200  # stores the coverage (reader.figures)
            # The theme or tag, its stored coverage, the page's story ids, those stories, their companies.
            with django_assert_num_queries(5):
                assert client.get(path).status_code == 200


# Crawlers


def test_sitemap_lists_only_published_content(client):
    public_company = CompanyFactory(slug="public-co")
    private_company = CompanyFactory(slug="private-co")
    published = IssueFactory(published=True)
    PlacementFactory(issue=published, story__companies=[public_company], story__themes=[ThemeFactory(slug="seen")])
    draft = IssueFactory()
    PlacementFactory(issue=draft, story__companies=[private_company], story__themes=[ThemeFactory(slug="unseen")])
    withdrawn = IssueFactory(state=IssueState.WITHDRAWN, published_at=timezone.now())
    response = client.get("/sitemap.xml")
    xml = html_of(response)
    assert response["Content-Type"].startswith("application/xml")
    assert f"<loc>http://testserver{published.get_absolute_url()}</loc>" in xml
    assert "/companies/public-co/" in xml and "/themes/seen/" in xml
    for private in (draft.get_absolute_url(), withdrawn.get_absolute_url(), "private-co", "unseen"):
        assert private not in xml


def test_robots_txt_points_at_the_sitemap_and_keeps_out_of_admin(client):
    response = client.get("/robots.txt")
    text = html_of(response)
    assert response["Content-Type"].startswith("text/plain")
    assert "Disallow: /admin/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_healthz_is_trivial(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert html_of(client.get("/healthz")) == "ok\n"


def test_public_pages_refuse_writes(client, demo_issue):
    assert client.post("/issues/2026-04-18/").status_code == 405
    assert client.post("/search/", {"q": "x"}).status_code == 405


def test_story_factory_keeps_unplaced_stories_private(client):
    story = StoryFactory(title="Unplaced story", companies=[CompanyFactory(slug="lonely")])
    assert client.get("/companies/lonely/").status_code == 404
    assert story.title not in html_of(client.get("/search/?q=Unplaced"))
