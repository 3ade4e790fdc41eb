"""A company that a published story names: deleting it is refused, renaming it is a correction."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.models import Company
from digest.models import Correction, IssueState
from tests.admin_forms import change_form_data
from tests.factories import CompanyFactory, StoryFactory, issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db


def logged_in(role):
    client = Client()
    client.force_login(user_in_role(role))
    return client


def change_url(company):
    return reverse("admin:companies_company_change", args=[company.pk])


def admin_form(client, company, **changes):
    page = client.get(change_url(company))
    assert page.status_code == 200
    data = change_form_data(page, **changes)
    return data


@pytest.fixture
def published():
    """A published issue whose one story names "Amazn" (a typo), and a draft one naming it too."""
    issue = issue_with_stories(top=1, threads=0, published=True)
    company = CompanyFactory(name="Amazn", slug="amazn")
    issue.placements.get().story.companies.set([company])
    draft = issue_with_stories(top=1, threads=0)
    draft.placements.get().story.companies.add(company)
    return issue, company


# Deleting ---------------------------------------------------------------------------------


def test_deleting_a_company_a_published_story_names_is_refused(published):
    issue, company = published
    publisher = logged_in("Publisher")
    url = reverse("admin:companies_company_delete", args=[company.pk])
    page = publisher.get(url)
    assert page.status_code == 200
    assert f"shown in published issue #{issue.number}" in page.content.decode()
    response = publisher.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert Company.objects.filter(pk=company.pk).exists()
    assert list(issue.placements.get().story.companies.all()) == [company]


def test_deleting_selected_companies_refuses_them_all_when_one_is_shown(published):
    issue, company = published
    unused = CompanyFactory()
    response = logged_in("Publisher").post(
        reverse("admin:companies_company_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [company.pk, unused.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert f"shown in published issue #{issue.number}" in response.content.decode()
    assert Company.objects.filter(pk__in=[company.pk, unused.pk]).count() == 2


def test_a_company_only_unpublished_stories_name_can_be_deleted():
    company = CompanyFactory()
    StoryFactory(companies=[company])
    issue_with_stories(top=1, threads=0).placements.get().story.companies.add(company)
    url = reverse("admin:companies_company_delete", args=[company.pk])
    response = logged_in("Publisher").post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Company.objects.filter(pk=company.pk).exists()


def test_the_delete_guard_is_a_service_the_admin_goes_through(published):
    from digest.protection import ensure_deletable

    issue, company = published
    with pytest.raises(ProtectedError, match=f"published issue #{issue.number}"):
        ensure_deletable(Company.objects.filter(pk=company.pk))
    issue.state = IssueState.WITHDRAWN
    issue.save()
    ensure_deletable(Company.objects.filter(pk=company.pk))  # withdrawn: readers see a 410, not the company


# Renaming ---------------------------------------------------------------------------------


def test_renaming_a_published_company_needs_a_public_note(published, client, django_capture_on_commit_callbacks):
    issue, company = published
    old_company_page, old_issue_page = client.get(company.get_absolute_url()), client.get(issue.get_absolute_url())
    assert old_company_page.status_code == 200 and "Amazn" in old_issue_page.content.decode()
    publisher = logged_in("Publisher")
    assert "Correction note" in publisher.get(change_url(company)).content.decode()

    response = publisher.post(change_url(company), admin_form(publisher, company, name="Amazon", slug="amazon"))
    assert response.status_code == 200
    assert "add a short public note saying what you renamed" in response.content.decode()
    company.refresh_from_db()
    assert (company.name, company.slug) == ("Amazn", "amazn")

    data = admin_form(publisher, company, name="Amazon", slug="amazon", correction_note="Spelled Amazon right")
    with django_capture_on_commit_callbacks(execute=True):
        assert publisher.post(change_url(company), data).status_code == 302
    company.refresh_from_db()
    assert (company.name, company.slug) == ("Amazon", "amazon")
    assert list(Correction.objects.values_list("issue", "note")) == [(issue.pk, "Spelled Amazon right")]
    public = client.get(issue.get_absolute_url()).content.decode()  # purged: rendered afresh
    assert "Amazon" in public and "Amazn" not in public and "Spelled Amazon right" in public
    assert client.get("/companies/amazn/").status_code == 404  # the old slug's cached page was purged
    assert client.get(company.get_absolute_url()).status_code == 200


def test_editors_may_not_rename_a_published_company_but_may_describe_it(published):
    issue, company = published
    editor = logged_in("Editor")
    response = editor.post(change_url(company), admin_form(editor, company, name="Hacked", correction_note="I say so"))
    assert response.status_code == 200
    assert "only publishers may rename it" in response.content.decode()
    assert editor.post(change_url(company), admin_form(editor, company, description="Sells books.")).status_code == 302
    company.refresh_from_db()
    assert (company.name, company.description) == ("Amazn", "Sells books.")
    assert not issue.corrections.exists()


def test_renaming_a_company_no_published_story_names_is_no_correction():
    company = CompanyFactory(name="Draftco")
    StoryFactory(companies=[company])
    editor = logged_in("Editor")
    assert "Correction note" not in editor.get(change_url(company)).content.decode()
    assert editor.post(change_url(company), admin_form(editor, company, name="Draft Co")).status_code == 302
    assert Company.objects.get(pk=company.pk).name == "Draft Co"
    assert not Correction.objects.exists()


def test_a_company_named_in_many_issues_keeps_a_light_page_and_a_short_message():
    """The change page read every published issue naming the company, whole, to know whether to ask
    for a note (thousands for a company covered for years); the message listed every number."""
    company = CompanyFactory(name="Amazn", slug="amazn")
    issues = [issue_with_stories(top=1, threads=0, published=True) for _ in range(2)]
    for issue in issues:
        issue.placements.get().story.companies.set([company])
    publisher = logged_in("Publisher")
    publisher.get(change_url(company))  # the session and the admin's first-use lookups
    with CaptureQueriesContext(connection) as few:
        assert "Correction note" in publisher.get(change_url(company)).content.decode()
    issues += [issue_with_stories(top=1, threads=0, published=True) for _ in range(10)]
    for issue in issues[2:]:
        issue.placements.get().story.companies.set([company])
    with CaptureQueriesContext(connection) as many:
        page = publisher.get(change_url(company)).content.decode()
    assert "Correction note" in page and len(many) == len(few)
    assert not any('"digest_issue"."approved_content"' in query["sql"] for query in many.captured_queries)

    response = publisher.post(change_url(company), admin_form(publisher, company, name="Amazon"))
    numbers = sorted(issue.number for issue in issues)
    listed = ", ".join(f"#{number}" for number in numbers[:10])
    assert f"Published issue {listed} and 2 more names this company" in response.content.decode()


# Restoring a revision -----------------------------------------------------------------------


def test_restoring_an_old_name_of_a_published_company_is_a_correction_by_a_publisher(published):
    issue, company = published
    typo = company.history.latest()
    company.name = "Amazon"
    company.save()
    restore = reverse("admin:companies_company_restore", args=[company.pk, typo.history_id])

    response = logged_in("Editor").post(restore, follow=True)
    assert "Only publishers may rename" in " ".join(str(m) for m in response.context["messages"])
    company.refresh_from_db()
    assert company.name == "Amazon" and not issue.corrections.exists()

    response = logged_in("Publisher").post(restore)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Amazn"
    assert issue.corrections.get().note.startswith("Restored “Amazn” to its version of")
