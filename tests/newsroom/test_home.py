"""The newsroom's home page: what each role sees there, its links, and its cost at any size."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from digest.models import IssueEvent, IssueState, PublicationRun, RunState
from tests.factories import IssueFactory, PlacementFactory, StoryFactory, UserFactory, user_in_role
from tests.newsroom.clients import logged_in

pytestmark = pytest.mark.django_db

HOME = "/admin/"
PARTS = ["awaiting-review", "approved", "my-drafts", "draft-issues", "scheduled", "needs-attention", "recent-activity"]
# What each role finds on its home page, given the newsroom built by ``newsroom()``.
SEES = {
    "Contributor": {"my-drafts", "draft-issues", "scheduled", "needs-attention", "recent-activity"},
    "Editor": {"awaiting-review", "my-drafts", "draft-issues", "scheduled", "needs-attention", "recent-activity"},
    "Publisher": set(PARTS),
}


def newsroom(author, count=1):
    """``count`` issues in each state, failed runs, stories by ``author``, and audit entries."""
    now = timezone.now()
    for _ in range(count):
        IssueFactory(state=IssueState.DRAFT, title="Drafted issue")
        in_review = IssueFactory(state=IssueState.IN_REVIEW, title="Issue to review")
        IssueFactory(state=IssueState.APPROVED, title="Approved issue")
        IssueFactory(
            state=IssueState.SCHEDULED, title="Issue going out", publish_at=now + datetime.timedelta(days=2, hours=3.5)
        )
        late = IssueFactory(
            state=IssueState.SCHEDULED, title="Late issue", publish_at=now - datetime.timedelta(minutes=20)
        )
        PublicationRun.objects.create(issue=late, state=RunState.FAILED, last_error="PDF renderer timed out")
        PlacementFactory(issue=IssueFactory(state=IssueState.DRAFT), story=StoryFactory(author=author, title="Mine"))
        PlacementFactory(issue=IssueFactory(published=True), story=StoryFactory(author=author, title="Mine, out"))
        StoryFactory(author=author, title="Mine, unplaced")
        StoryFactory(author=UserFactory(), title="Someone else's")
        IssueEvent.objects.create(
            issue=in_review, actor=author, action="send_to_review", from_state="draft", to_state="in_review"
        )


def parts_on(html):
    return {part for part in PARTS if f'id="{part}"' in html}


def part(html, name):
    return re.search(rf'<section class="home-part[^"]*" id="{name}".*?</section>', html, re.S).group(0)


@pytest.mark.parametrize("role", SEES)
def test_each_role_sees_what_waits_for_it(role):
    user = user_in_role(role)
    newsroom(user)
    html = logged_in(user).get(HOME).content.decode()
    assert parts_on(html) == SEES[role]
    mine = part(html, "my-drafts")
    assert "Mine</a>" in mine and "Mine, unplaced" in mine
    assert "Mine, out" not in mine and "Someone else" not in mine
    attention = part(html, "needs-attention")
    assert "Late issue" in attention
    assert ("PDF renderer timed out" in attention) == (role != "Contributor")  # contributors follow no runs
    assert "Send to review" in part(html, "recent-activity")


def test_reviewers_see_the_issues_in_review_and_publishers_those_to_schedule():
    newsroom(UserFactory())
    editor = logged_in(user_in_role("Editor")).get(HOME).content.decode()
    assert "Issue to review" in part(editor, "awaiting-review")
    publisher = logged_in(user_in_role("Publisher")).get(HOME).content.decode()
    assert "Approved issue" in part(publisher, "approved")


def test_a_scheduled_issue_shows_its_time_and_a_countdown():
    newsroom(UserFactory())
    html = part(logged_in(user_in_role("Editor")).get(HOME).content.decode(), "scheduled")
    publish_at = timezone.localtime(timezone.now() + datetime.timedelta(days=2, hours=3.5))
    assert "in 2\xa0days, 3\xa0hours" in html  # Django's timeuntil, with no-break spaces
    assert f"{publish_at:%H}:" in html and "UTC" in html
    assert 'data-countdown="' in html
    home = logged_in(user_in_role("Publisher")).get(HOME).content.decode()
    assert re.search(r'<script src="/static/newsroom/countdown\.js" defer>', home)
    assert "<script>" not in home  # no inline script: CSP


def test_an_empty_newsroom_says_so():
    html = logged_in(user_in_role("Publisher")).get(HOME).content.decode()
    assert "No issue waits for review." in html
    assert "Nothing is scheduled." in html
    assert "needs-attention" not in html


@pytest.mark.parametrize("role", [*SEES, "superuser"])
def test_the_home_page_is_a_fixed_number_of_queries(role, django_assert_max_num_queries):
    user = UserFactory(username="boss", superuser=True) if role == "superuser" else user_in_role(role)
    client = logged_in(user)
    counts = []
    for count in (1, 12):  # fewer, then more, than a part shows
        newsroom(user, count)
        with django_assert_max_num_queries(16) as captured:
            assert client.get(HOME).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", SEES)
def test_every_link_on_the_home_page_opens(role):
    user = user_in_role(role)
    newsroom(user, 11)  # more than a part shows: the "All …" links appear
    client = logged_in(user)
    html = client.get(HOME).content.decode()
    main = html[html.index('id="content-main"') :]
    links = set(re.findall(r'href="(/admin/[^"]*)"', main))
    assert len(links) > 20
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link


@pytest.mark.parametrize(
    "text",
    [
        "All 22 issues in draft",  # the "Drafted issue" and the issue of each "Mine" story
        "All 11 issues in review",
        "All 11 approved issues",
        "All 11 scheduled issues",  # not the late ones
        "All 11 overdue issues",
        "All your 22 stories not yet published",  # "Mine" and "Mine, unplaced"; not "Mine, out"
        "All 11 failed runs",
    ],
)
def test_the_all_links_list_what_they_say(text):
    user = user_in_role("Publisher")
    newsroom(user, 11)
    client = logged_in(user)
    html = client.get(HOME).content.decode()
    link = re.search(rf'<a href="([^"]+)">{re.escape(text)}</a>', html).group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    assert response.context["cl"].result_count == int(re.search(r"\d+", text).group())


def test_the_full_list_of_models_has_human_names():
    client = logged_in(user_in_role("Publisher"))
    html = client.get(HOME).content.decode()
    assert f'href="{reverse("admin:models")}"' in html
    models = client.get(reverse("admin:models")).content.decode()
    for name in ("Issues and publishing", "Stories", "Companies", "Tags"):
        assert f">{name}</a>" in models, name
    for model in ("Issues", "Publication runs", "Stories", "Themes", "Companies"):
        assert f">{model}</a>" in models, model
    shown = re.sub(r"<[^>]+>", " ", models[models.index('id="content-main"') :])  # the words, not the addresses
    assert "digest" not in shown.lower() and "taggit" not in shown.lower()


def test_the_home_page_and_the_list_of_models_need_a_login(client):
    for url in (HOME, reverse("admin:models")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_publishing_report_counts_down_to_a_scheduled_issue():
    """It said "in 0 minutes" for every scheduled issue (``timeuntil`` the wrong way round)."""
    IssueFactory(state=IssueState.SCHEDULED, publish_at=timezone.now() + datetime.timedelta(days=2, hours=3.5))
    html = logged_in(user_in_role("Editor")).get(reverse("admin:digest_publicationrun_report")).content.decode()
    assert "(in 2\xa0days, 3\xa0hours)" in html
