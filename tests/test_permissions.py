"""Who may open which admin page: every role against every admin URL, and refusals change nothing."""

import pytest
from django.urls import reverse

from companies.models import Company
from digest.models import Issue, PublicationRun
from stories.models import Story, Theme
from tests.factories import CompanyFactory, ThemeFactory, UserFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "Contributor", "Editor", "Publisher", "superuser"]
OK, FORBIDDEN, LOGIN = 200, 403, "login"

# model → views → expected answer per role (anonymous, contributor, editor, publisher, superuser)
MATRIX = {
    "companies.company": {
        "changelist": [LOGIN, OK, OK, OK, OK],
        "add": [LOGIN, OK, OK, OK, OK],
        "change": [LOGIN, OK, OK, OK, OK],
        "delete": [LOGIN, FORBIDDEN, OK, OK, OK],
        "history": [LOGIN, OK, OK, OK, OK],
    },
    "stories.story": {
        "changelist": [LOGIN, OK, OK, OK, OK],
        "add": [LOGIN, OK, OK, OK, OK],
        "change": [LOGIN, OK, OK, OK, OK],
        "delete": [LOGIN, FORBIDDEN, OK, OK, OK],
        "history": [LOGIN, OK, OK, OK, OK],
    },
    "stories.theme": {
        "changelist": [LOGIN, OK, OK, OK, OK],
        "add": [LOGIN, OK, OK, OK, OK],
        "change": [LOGIN, OK, OK, OK, OK],
        "delete": [LOGIN, FORBIDDEN, OK, OK, OK],
    },
    "taggit.tag": {
        "changelist": [LOGIN, OK, OK, OK, OK],
        "add": [LOGIN, OK, OK, OK, OK],
        "change": [LOGIN, OK, OK, OK, OK],
        "delete": [LOGIN, FORBIDDEN, OK, OK, OK],
    },
    "digest.issue": {
        "changelist": [LOGIN, OK, OK, OK, OK],
        "add": [LOGIN, FORBIDDEN, OK, OK, OK],
        "change": [LOGIN, OK, OK, OK, OK],  # contributors see it read-only
        "delete": [LOGIN, FORBIDDEN, FORBIDDEN, OK, OK],
        "history": [LOGIN, OK, OK, OK, OK],
        "preview": [LOGIN, OK, OK, OK, OK],
        "pdf_preview": [LOGIN, OK, OK, OK, OK],
    },
    "digest.publicationrun": {
        "changelist": [LOGIN, FORBIDDEN, OK, OK, OK],
        "change": [LOGIN, FORBIDDEN, OK, OK, OK],
        "report": [LOGIN, FORBIDDEN, OK, OK, OK],
    },
    "auth.user": {
        "changelist": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
        "add": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    },
}

CASES = [
    (model, view, role, expected[index])
    for model, views in MATRIX.items()
    for view, expected in views.items()
    for index, role in enumerate(ROLES)
]


def client_for(client, role):
    if role == "anonymous":
        return client
    user = UserFactory(username="boss", superuser=True) if role == "superuser" else user_in_role(role)
    client.force_login(user)
    return client


def an_object(model):
    issue = issue_with_stories()
    objects = {
        "companies.company": lambda: CompanyFactory(),
        "stories.story": lambda: issue.placements.first().story,
        "stories.theme": lambda: ThemeFactory(),
        "taggit.tag": lambda: _tag(),
        "digest.issue": lambda: issue,
        "digest.publicationrun": lambda: PublicationRun.objects.create(issue=issue),
        "auth.user": lambda: UserFactory(),
    }
    return objects[model]()


def _tag():
    from taggit.models import Tag

    return Tag.objects.create(name="kafka", slug="kafka")


@pytest.mark.parametrize(("model", "view", "role", "expected"), CASES)
def test_admin_page_answers_by_role(client, model, view, role, expected):
    app_label, model_name = model.split(".")
    needs_object = view in ("change", "delete", "history", "preview", "pdf_preview")
    args = [an_object(model).pk] if needs_object else []
    url = reverse(f"admin:{app_label}_{model_name}_{view}", args=args)
    response = client_for(client, role).get(url)
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == expected, url


COUNTED = [Company, Story, Theme, Issue]


def counts():
    return [model.objects.count() for model in COUNTED]


@pytest.mark.parametrize("role", ["anonymous", "Contributor"])
def test_refused_writes_change_nothing(client, role):
    issue = issue_with_stories()
    story = issue.placements.first().story
    company = story.companies.first()
    client = client_for(client, role)
    before = counts()
    attempts = [
        (reverse("admin:digest_issue_add"), {"number": 99, "title": "x", "slug": "x"}),
        (reverse("admin:digest_issue_delete", args=[issue.pk]), {"post": "yes"}),
        (reverse("admin:companies_company_delete", args=[company.pk]), {"post": "yes"}),
        (reverse("admin:stories_story_delete", args=[story.pk]), {"post": "yes"}),
        (reverse("admin:digest_issue_share", args=[issue.pk]), {"days": 7}),
        (reverse("admin:digest_issue_revoke_links", args=[issue.pk]), {}),
    ]
    for url, data in attempts:
        response = client.post(url, data)
        assert response.status_code in (302, 403), url  # to the login page, back with an error, or refused
    assert counts() == before
    issue.refresh_from_db()
    assert issue.share_links_generation == 0
    assert not issue.events.exists()


def test_editors_cannot_retry_runs_or_restore_published_revisions(client):
    issue = issue_with_stories(published=True)
    run = PublicationRun.objects.create(issue=issue, state="failed")
    client.force_login(user_in_role("Editor"))
    client.post(reverse("admin:digest_publicationrun_retry", args=[run.pk]))
    run.refresh_from_db()
    assert run.state == "failed"
    record = issue.history.first()
    assert client.post(reverse("admin:digest_issue_restore", args=[issue.pk, record.history_id])).status_code == 403


def test_an_object_id_that_does_not_exist_is_not_found_for_staff(client):
    client.force_login(user_in_role("Publisher"))
    assert client.get(reverse("admin:digest_issue_preview", args=[999999])).status_code == 404
    assert client.post(reverse("admin:digest_issue_transition", args=[999999, "publish"])).status_code == 404


def test_a_transition_posted_by_someone_without_the_right_changes_nothing(client):
    issue = issue_with_stories()
    client.force_login(user_in_role("Contributor"))
    for name in ("send_to_review", "approve", "publish", "schedule", "withdraw"):
        client.post(reverse("admin:digest_issue_transition", args=[issue.pk, name]), {"comment": "x"})
    issue.refresh_from_db()
    assert issue.state == "draft"
    assert not issue.events.exists()


def test_a_revision_of_another_object_cannot_be_restored_onto_this_one(client):
    """The revision id in the URL must belong to the object in the URL: otherwise it is not found."""
    first, second = issue_with_stories(top=1, threads=0), issue_with_stories(top=1, threads=0)
    story, other = first.placements.get().story, second.placements.get().story
    other.title = "Someone else's story"
    other.save()
    client.force_login(user_in_role("Editor"))
    foreign = other.history.first().history_id
    revisions = story.history.count()
    response = client.post(reverse("admin:stories_story_restore", args=[story.pk, foreign]))
    assert response.status_code == 404
    story.refresh_from_db()
    assert story.title != "Someone else's story"
    assert story.history.count() == revisions


def test_a_source_id_of_another_story_in_a_change_form_is_refused(client):
    """A tampered inline id cannot edit another story's source through this story's form."""
    from tests.admin_forms import change_form_data

    first, second = issue_with_stories(top=1, threads=0), issue_with_stories(top=1, threads=0)
    story, other = first.placements.get().story, second.placements.get().story
    foreign_source = other.sources.get()
    client.force_login(user_in_role("Editor"))
    url = reverse("admin:stories_story_change", args=[story.pk])
    data = change_form_data(client.get(url), **{"sources-0-id": str(foreign_source.pk), "sources-0-title": "Hijacked"})
    assert "sources-0-id" in data and "sources-0-title" in data
    client.post(url, data)
    foreign_source.refresh_from_db()
    assert foreign_source.title != "Hijacked" and foreign_source.story == other
    assert list(other.sources.all()) == [foreign_source]
