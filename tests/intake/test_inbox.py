"""The inbox: listing, filtering, dismissing, making stories, and what the issue page shows of it."""

import datetime
import threading
import time

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake import candidates
from intake.models import Candidate, CandidateState
from stories.models import Story
from tests.factories import (
    CandidateFactory,
    CompanyFactory,
    FeedFactory,
    IssueFactory,
    StoryFactory,
    UserFactory,
    user_in_role,
)
from tests.newsroom.clients import logged_in

INBOX = "/admin/intake/candidate/"


@pytest.fixture
def editor_client(editor):
    return logged_in(editor)


def page(client, query=""):
    response = client.get(INBOX + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_inbox_lists_posts_waiting_newest_first_and_filters_them(editor_client):
    older = CandidateFactory(title="Older post", published_at=timezone.now() - datetime.timedelta(days=2))
    newer = CandidateFactory(title="Newer post about Kafka")
    CandidateFactory(title="Dismissed post", state=CandidateState.DISMISSED)
    other = CandidateFactory(title="Post of another company", feed=FeedFactory())
    html = page(editor_client)
    assert html.index("Post of another company") < html.index("Newer post") < html.index("Older post")
    assert "Dismissed post" not in html
    assert "Dismissed post" in page(editor_client, "?state=dismissed")
    assert "Older post" not in page(editor_client, "?state=dismissed")
    assert "Dismissed post" in page(editor_client, "?state=all")
    by_company = page(editor_client, f"?company={older.company_id}")
    assert "Older post" in by_company and "another company" not in by_company
    by_feed = page(editor_client, f"?feed={other.feed_id}")
    assert "another company" in by_feed and "Older post" not in by_feed
    found = page(editor_client, "?q=kafka")
    assert "Newer post about Kafka" in found and "Older post" not in found
    assert newer.title in page(editor_client, "?q=KAFKA&state=new")


@pytest.mark.django_db
def test_bulk_dismiss_leaves_used_posts_used(editor_client, editor):
    waiting = CandidateFactory.create_batch(3)
    used = CandidateFactory(state=CandidateState.USED, story=StoryFactory())
    response = editor_client.post(
        INBOX,
        {"action": "dismiss_selected", "_selected_action": [c.pk for c in [*waiting, used]]},
        follow=True,
    )
    assert "3 candidates dismissed." in response.content.decode()
    assert set(Candidate.objects.values_list("state", flat=True)) == {CandidateState.DISMISSED, CandidateState.USED}
    assert Candidate.objects.get(pk=used.pk).state == CandidateState.USED


@pytest.mark.django_db
def test_dismiss_one_answers_json_for_the_keyboard_and_redirects_back_otherwise(editor_client):
    candidate, other = CandidateFactory.create_batch(2)
    url = reverse("admin:intake_candidate_dismiss", args=[candidate.pk])
    answer = editor_client.post(url, HTTP_ACCEPT="application/json").json()
    assert answer == {"id": candidate.pk, "state": "dismissed", "changed": True}
    response = editor_client.post(reverse("admin:intake_candidate_dismiss", args=[other.pk]), {"next": INBOX + "?q=x"})
    assert response.status_code == 302 and response["Location"] == INBOX + "?q=x"
    evil = editor_client.post(
        reverse("admin:intake_candidate_keep", args=[other.pk]), {"next": "https://evil.example/"}
    )
    assert evil["Location"] == INBOX
    assert Candidate.objects.get(pk=other.pk).state == CandidateState.KEPT


@pytest.mark.django_db
def test_make_story_opens_a_draft_with_title_company_and_source_and_uses_the_post(editor_client, editor):
    candidate = CandidateFactory(title="How we run Kafka at scale")
    response = editor_client.post(reverse("admin:intake_candidate_make_story", args=[candidate.pk]))
    story = Story.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:stories_story_change", args=[story.pk]
    )
    assert (story.title, story.slug, story.author, story.summary) == (
        "How we run Kafka at scale",
        "how-we-run-kafka-at-scale",
        editor,
        "",
    )
    assert list(story.companies.all()) == [candidate.company]
    assert list(story.sources.values_list("position", "title", "publisher", "url")) == [
        (0, candidate.title, candidate.company.name, candidate.link)
    ]
    candidate.refresh_from_db()
    assert (candidate.state, candidate.story) == (CandidateState.USED, story)
    story_page = editor_client.get(response["Location"])
    assert story_page.status_code == 200 and "Draft story made from the post" in story_page.content.decode()
    again = editor_client.post(reverse("admin:intake_candidate_make_story", args=[candidate.pk]), follow=True)
    assert "already used: it is a source of “How we run Kafka at scale”" in again.content.decode()
    assert Story.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_editors_cannot_both_make_a_story_of_one_post(postgresql):
    first, second = user_in_role("Editor", "ana"), user_in_role("Editor", "bo")
    candidate = CandidateFactory(title="One post")
    locked, outcome = threading.Event(), {}

    def ana():
        try:
            with transaction.atomic():
                # Ana's click has the row: hold it while Bo clicks too.
                Candidate.objects.select_for_update().get(pk=candidate.pk)
                locked.set()
                time.sleep(0.5)
                outcome["ana"] = candidates.make_story(candidate_id=candidate.pk, by=first)
        finally:
            connection.close()

    def bo():
        locked.wait(5)
        started = time.monotonic()
        try:
            candidates.make_story(candidate_id=candidate.pk, by=second)
        except candidates.CandidateAlreadyUsed as error:
            outcome["bo"] = (str(error), time.monotonic() - started)
        finally:
            connection.close()

    threads = [threading.Thread(target=ana), threading.Thread(target=bo)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    message, waited = outcome["bo"]
    assert "already used: it is a source of “One post”" in message and waited >= 0.3
    assert list(Story.objects.values_list("title", flat=True)) == ["One post"]
    assert Candidate.objects.get(pk=candidate.pk).story == outcome["ana"]


@pytest.mark.django_db
def test_a_post_cited_as_a_source_counts_as_used():
    candidate = CandidateFactory(link="https://blog.example.com/posts/cited")
    story = StoryFactory(sources=[])
    story.sources.create(title="Cited", url="https://BLOG.example.com/posts/cited?utm_source=newsletter")
    candidate.refresh_from_db()
    assert (candidate.state, candidate.story) == (CandidateState.USED, story)


@pytest.mark.django_db
def test_feed_text_is_shown_escaped_and_sanitised(editor_client):
    CandidateFactory(
        title='<script>alert("title")</script>',
        summary="[click](javascript:alert(1)) <img src=x onerror=alert(2)> **bold**",
        author="<b>Mallory</b>",
    )
    html = page(editor_client)
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in html
    assert '<script>alert("title")' not in html
    assert 'href="javascript' not in html and "<img src=x" not in html
    assert (
        "&lt;b&gt;Mallory&lt;/b&gt;" in html and "&lt;img src=x onerror=alert(2)&gt; **bold**" in html
    )  # plain text, shown as text


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Editor", "view only"])
def test_each_row_is_djangos_own_changelist_markup_with_the_text_escaped(role):
    """The inbox writes its rows itself (Django's lookups per cell were most of its time): the
    table must stay the one Django writes, which the admin's scripts and the keyboard rely on."""
    from django.contrib.admin.templatetags.admin_list import result_list

    from intake.templatetags.inbox import inbox_result_list

    hostile = CandidateFactory(title='A "quoted" <b>title</b> & more', author="<i>Mallory</i>", summary="x" * 300)
    CandidateFactory(state=CandidateState.KEPT, feed=None, company=None)
    CandidateFactory(state=CandidateState.USED, story=StoryFactory(title="Used <in> a story"))
    CandidateFactory(state=CandidateState.DISMISSED, published_at=timezone.now() - datetime.timedelta(days=400))
    if role == "view only":  # no action allowed: Django leaves the checkbox column out
        user = UserFactory(username="viewer", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_candidate"))
    else:
        user = user_in_role(role)
    response = logged_in(user).get(INBOX + "?state=all&o=2.4")
    cl = response.context["cl"]
    ours, djangos = inbox_result_list(cl), result_list(cl)
    assert len(ours["results"]) == 4
    assert ["".join(row) for row in ours["results"]] == ["".join(row) for row in djangos["results"]]
    assert {key: value for key, value in ours.items() if key != "results"} == {
        key: value for key, value in djangos.items() if key != "results"
    }
    html = response.content.decode()
    assert all("".join(row) in html for row in ours["results"])
    assert all(len(row) == len(ours["result_headers"]) for row in ours["results"])  # a cell under each heading
    assert "<i>Mallory" not in html
    if role == "view only":
        assert 'class="action-select"' not in html
        return
    escaped = "A &quot;quoted&quot; &lt;b&gt;title&lt;/b&gt; &amp; more"
    assert f'aria-label="Select this object for an action - {escaped}"' in html
    assert f'value="{hostile.pk}" class="action-select"' in html


@pytest.mark.django_db
def test_the_inbox_runs_the_same_queries_whatever_its_size(editor_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            page(editor_client, "?state=all")
        return len(captured)

    for _ in range(3):
        CandidateFactory(story=StoryFactory(), state=CandidateState.USED)
        CandidateFactory(feed=None, company=None)
    CandidateFactory.create_batch(3)
    small = queries()
    CandidateFactory.create_batch(60)
    assert queries() == small


@pytest.mark.django_db
def test_the_issue_page_shows_the_weeks_candidates_not_yet_used(admin_client):
    issue = IssueFactory(week_start=datetime.date(2026, 11, 14), week_end=datetime.date(2026, 11, 20))
    at = datetime.datetime(2026, 11, 16, 12, tzinfo=datetime.UTC)
    CandidateFactory(title="In the week", published_at=at)
    CandidateFactory(title="Kept in the week", published_at=at, state=CandidateState.KEPT)
    CandidateFactory(title="Used in the week", published_at=at, state=CandidateState.USED)
    CandidateFactory(title="Dismissed in the week", published_at=at, state=CandidateState.DISMISSED)
    CandidateFactory(title="The week after", published_at=at + datetime.timedelta(days=7))
    html = admin_client.get(reverse("admin:digest_issue_change", args=[issue.pk])).content.decode()
    assert "Candidates from this week not yet used" in html
    assert "In the week" in html and "Kept in the week" in html
    assert "Used in the week" not in html and "Dismissed" not in html and "The week after" not in html
    inbox = page(admin_client, "?state=open&week=2026-11-14_2026-11-20")
    assert "In the week" in inbox and "The week after" not in inbox


@pytest.mark.django_db
def test_who_may_use_the_inbox():
    candidate = CandidateFactory()
    contributor = logged_in(user_in_role("Contributor"))
    assert contributor.get(INBOX).status_code == 200
    assert contributor.get("/admin/intake/feed/import-opml/").status_code == 403
    assert contributor.get("/admin/intake/feed/add/").status_code == 403
    no_role = logged_in(UserFactory(username="norole", is_staff=True))
    assert no_role.get(INBOX).status_code == 403
    assert no_role.post(reverse("admin:intake_candidate_dismiss", args=[candidate.pk])).status_code == 403
    assert no_role.post(reverse("admin:intake_candidate_make_story", args=[candidate.pk])).status_code == 403
    assert Candidate.objects.get(pk=candidate.pk).state == CandidateState.NEW and not Story.objects.exists()
    made = contributor.post(reverse("admin:intake_candidate_make_story", args=[candidate.pk]))
    assert made.status_code == 302 and Story.objects.count() == 1


@pytest.mark.django_db
def test_an_editor_adds_a_post_by_address_with_its_title(editor_client):
    company = CompanyFactory()
    assert editor_client.get(INBOX + "add/").status_code == 200
    response = editor_client.post(
        INBOX + "add/",
        {"url": "https://blog.example.com/a-post?utm_source=x&id=3", "title": "A post", "company": company.pk},
        follow=True,
    )
    assert "“A post” is in the inbox (new)." in response.content.decode()
    candidate = Candidate.objects.get()
    assert (candidate.link, candidate.company, candidate.feed) == (
        "https://blog.example.com/a-post?id=3",
        company,
        None,
    )
    refused = editor_client.post(INBOX + "add/", {"url": "http://169.254.169.254/latest/", "title": "x"})
    assert "not allowed" in refused.content.decode() and Candidate.objects.count() == 1


@pytest.mark.django_db
def test_the_inbox_counts_only_up_to_its_cap(editor_client, monkeypatch):
    from intake.admin import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 3)
    CandidateFactory.create_batch(3)
    assert "3 candidates" in page(editor_client)
    CandidateFactory()
    assert "More than 3 candidates: filter or search to see older ones." in page(editor_client)


@pytest.mark.parametrize("week", ["0001-01-01_9999-12-31", "2026-01-01_9999-12-31", "0001-01-01_0001-01-07"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_week_at_the_ends_of_the_calendar_filters_the_inbox_never_a_5xx(admin_client, settings, week, zone):
    settings.TIME_ZONE = zone
    CandidateFactory(title="A post of today")
    response = admin_client.get(f"{INBOX}?state=all&week={week}")
    assert response.status_code == 200
    assert (b"A post of today" in response.content) == ("9999" in week)


@pytest.mark.django_db
def test_a_story_of_the_same_title_saved_meanwhile_takes_the_next_free_slug(monkeypatch, editor):
    """A reviewer's find: two posts of one title made into stories at the same moment both chose the
    first free slug, and the second save was a 500 (IntegrityError)."""
    first, second = CandidateFactory(title="Scaling Postgres"), CandidateFactory(title="Scaling Postgres")
    real_free_slug = candidates._free_slug
    picks = []

    def free_slug_then_lose_the_race(title):
        slug = real_free_slug(title)
        if not picks:  # another editor's story takes this slug before ours is saved
            StoryFactory(title="Scaling Postgres", slug=slug)
        picks.append(slug)
        return slug

    monkeypatch.setattr(candidates, "_free_slug", free_slug_then_lose_the_race)
    story = candidates.make_story(candidate_id=first.pk, by=editor)
    assert picks == ["scaling-postgres", "scaling-postgres-2"] and story.slug == "scaling-postgres-2"
    assert Candidate.objects.get(pk=first.pk).story == story
    monkeypatch.setattr(candidates, "_free_slug", real_free_slug)
    assert candidates.make_story(candidate_id=second.pk, by=editor).slug == "scaling-postgres-3"
