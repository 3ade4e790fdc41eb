"""Who may open which admin page: every role against every admin URL, and refusals change nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from companies.models import Company
from digest.models import Issue, PublicationRun
from stories.models import Story, Theme
from tests.accounts.signing import give_app
from tests.accounts.signing import password as password_step
from tests.accounts.signing import sign_in as two_step_sign_in
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
        "history": [LOGIN, OK, OK, OK, OK],
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

    return Tag.objects.get_or_create(name="kafka", defaults={"slug": "kafka"})[0]  # once per test


def matrix_url(model, view, made=None):
    """The admin URL of ``view`` on ``model``; ``made`` keeps one object per model across calls."""
    app_label, model_name = model.split(".")
    needs_object = view in ("change", "delete", "history", "preview", "pdf_preview")
    if needs_object and made is not None and model not in made:
        made[model] = an_object(model)
    args = [(made[model] if made is not None else an_object(model)).pk] if needs_object else []
    return reverse(f"admin:{app_label}_{model_name}_{view}", args=args)


@pytest.mark.parametrize(("model", "view", "role", "expected"), CASES)
def test_admin_page_answers_by_role(client, model, view, role, expected):
    url = matrix_url(model, view)
    response = client_for(client, role).get(url)
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == expected, url


def _user(role):
    return UserFactory(username="boss", superuser=True) if role == "superuser" else user_in_role(role)


@pytest.mark.parametrize("role", ["Contributor", "Publisher", "superuser"])  # who must, and who need not
def test_the_matrix_holds_after_the_two_step_sign_in(client, settings, role):
    """Signed in with a password and an authenticator app's code, with a second factor required of
    publishers and superusers (the production default), every role gets the answers of the matrix."""
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = ["Publisher", "superuser"]
    user = _user(role)
    with freeze_time(datetime.datetime(2026, 11, 30, 12, 0, 5, tzinfo=datetime.UTC)):
        two_step_sign_in(client, user.username, give_app(user))
    made = {}
    for model, view, case_role, expected in CASES:
        if case_role == role:
            assert client.get(matrix_url(model, view, made)).status_code == expected, (model, view)


@pytest.mark.parametrize("role", ["Editor", "Publisher"])  # superusers: tests/accounts/test_enrolment.py
def test_without_a_factor_publishers_and_superusers_reach_no_page_of_the_matrix(client, settings, role):
    settings.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = ["Publisher", "superuser"]
    user = _user(role)
    assert password_step(client, user.username)["Location"] == "/admin/"
    must_enrol, made = role in ("Publisher", "superuser"), {}
    for model, view, case_role, expected in CASES:
        if case_role != role:
            continue
        response = client.get(matrix_url(model, view, made))
        if must_enrol:
            assert response.status_code == 302 and response["Location"] == "/admin/security/", (model, view)
        else:
            assert response.status_code == expected, (model, view)


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
        (reverse("admin:digest_issue_revoke_links", args=[issue.pk]), {"confirm": "yes"}),
    ]
    for url, data in attempts:
        response = client.post(url, data)
        assert response.status_code in (302, 403), url  # to the login page, back with an error, or refused
    assert counts() == before
    issue.refresh_from_db()
    assert not issue.share_links.exists()
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


# Revisions: simple-history's own form never saves -------------------------------------------


def history_form_url(obj, record):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[obj.pk, record.history_id])


def _posted_issue(issue, **changes):
    fields = ["number", "title", "slug", "week_start", "week_end", "week_in_review", "patterns"]
    data = {name: str(getattr(issue, name)) for name in fields}
    return {**data, "seen_version": str(issue.version), **changes}


def test_the_revision_form_of_a_withdrawn_issue_cannot_bring_back_a_scheduled_revision(client):
    """The old bypass: POST a "scheduled" revision of a withdrawn issue, then the scheduler republished it."""
    from django.core.management import call_command

    issue = issue_with_stories(state="scheduled", publish_at=timezone.now() - datetime.timedelta(minutes=5))
    issue.save()  # a revision in the scheduled state
    scheduled = issue.history.latest()
    issue.state, issue.publish_at = "withdrawn", None
    issue.save()
    revisions = issue.history.count()
    client.force_login(user_in_role("Editor"))
    url = history_form_url(issue, scheduled)
    assert client.get(url).status_code == 200  # the revision is still shown, read-only
    response = client.post(url, _posted_issue(issue, title="Back again"))
    assert response.status_code == 405
    assert "Restore this revision" in response.content.decode()
    call_command("publish_due")
    issue.refresh_from_db()
    assert (issue.state, issue.publish_at, issue.title) == ("withdrawn", None, Issue.objects.get(pk=issue.pk).title)
    assert issue.title != "Back again"
    assert issue.history.count() == revisions
    assert not issue.events.exists() and not issue.publication_runs.exists()


def test_the_revision_form_cannot_unpublish_a_live_issue(client):
    issue = issue_with_stories(state="draft")
    draft = issue.history.latest()
    issue.state, issue.published_at = "published", timezone.now() - datetime.timedelta(hours=1)
    issue.save()
    client.force_login(user_in_role("Editor"))
    response = client.post(history_form_url(issue, draft), _posted_issue(issue))
    assert response.status_code == 405
    issue.refresh_from_db()
    assert issue.state == "published"
    assert client.get(issue.get_absolute_url()).status_code == 200


def test_the_revision_form_cannot_change_a_published_story_or_its_company(client):
    issue = issue_with_stories(top=1, threads=0, published=True)
    story = issue.placements.get().story
    company = story.companies.get()
    client.force_login(user_in_role("Editor"))
    story_data = {"title": "Hacked", "slug": story.slug, "summary": "x", "seen_version": str(story.version)}
    company_data = {"name": "Hacked", "slug": "hacked", "seen_version": str(company.version)}
    for obj, data in ((story, story_data), (company, company_data)):
        revisions = obj.history.count()
        response = client.post(history_form_url(obj, obj.history.latest()), data)
        assert response.status_code == 405
        obj.refresh_from_db()
        assert obj.history.count() == revisions
    assert story.title != "Hacked" and company.name != "Hacked"
    assert not issue.corrections.exists()


@pytest.mark.django_db(transaction=True)
def test_the_revision_form_answers_without_a_server_error_on_postgresql(client, postgresql):
    """Outside a test's transaction the form's version check (SELECT … FOR UPDATE) raised: a 500."""
    issue = issue_with_stories(state="draft")
    client.force_login(user_in_role("Editor"))
    response = client.post(history_form_url(issue, issue.history.latest()), _posted_issue(issue, title="Changed"))
    assert response.status_code == 405
    issue.refresh_from_db()
    assert issue.title != "Changed"
