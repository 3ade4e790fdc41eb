"""Withdraw, revoke and delete ask first and say what readers will see; share links are listed one by one."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from digest import previews
from digest.models import Issue, IssueEvent, IssueState
from tests.admin_forms import change_form_data
from tests.factories import issue_with_stories, user_in_role
from tests.newsroom.clients import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def publisher():
    return logged_in(user_in_role("Publisher", "pat"))


def change_url(issue):
    return reverse("admin:digest_issue_change", args=[issue.pk])


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def make_link(client, issue, days=7):
    response = client.post(reverse("admin:digest_issue_share", args=[issue.pk]), {"days": days}, follow=True)
    message = next(m for m in messages_of(response) if m.startswith("Share link"))
    return message.split(": ", 1)[1].replace("http://testserver", "")


def shows_issue(link):
    return Client().get(link).status_code == 200


# Withdraw -----------------------------------------------------------------------------------


def test_withdraw_asks_first_on_the_page_and_says_what_readers_will_see(publisher):
    issue = issue_with_stories(published=True, slug="2026-05-04")
    link = make_link(publisher, issue)
    page = publisher.get(change_url(issue))
    data = {**change_form_data(page), "_transition": "withdraw", "_comment_withdraw": "Legal asked us to"}

    asked = publisher.post(change_url(issue), data)

    assert asked.status_code == 200  # the change page again, not a redirect: nothing happened
    html = asked.content.decode()
    assert f"Withdraw issue #{issue.number}?" in html
    assert "The page /issues/2026-05-04/ will answer 410 Gone" in html
    assert "The PDF /issues/2026-05-04.pdf too." in html
    assert "1 share link still working will answer" in html
    assert ">Legal asked us to</textarea>" in html  # the comment typed is still there
    assert 'name="confirm" value="withdraw" form="issue_form"' in html
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED and not IssueEvent.objects.filter(action="withdraw").exists()
    assert shows_issue(link)

    confirmed = {**data, **change_form_data(asked), "confirm": "withdraw"}  # the confirming button: _transition
    response = publisher.post(change_url(issue), confirmed, follow=True)

    assert messages_of(response) == [f"Issue #{issue.number} is now withdrawn."]
    assert IssueEvent.objects.get(action="withdraw").comment == "Legal asked us to"
    assert Client().get(issue.get_absolute_url()).status_code == 410
    assert not shows_issue(link)


def test_the_confirmation_keeps_a_typed_correction_unsaved_until_confirmed(publisher):
    issue = issue_with_stories(published=True, week_in_review="Old words.")
    page = publisher.get(change_url(issue))
    typed = change_form_data(page, week_in_review="Corrected words.", correction_note="Fixed a name")

    data = {**typed, "_transition": "withdraw", "_comment_withdraw": "Legal"}
    asked = publisher.post(change_url(issue), data)

    html = asked.content.decode()
    assert "Corrected words.</textarea>" in html and 'value="Fixed a name"' in html
    issue.refresh_from_db()
    assert issue.week_in_review == "Old words." and issue.state == IssueState.PUBLISHED
    assert not issue.corrections.exists()

    publisher.post(change_url(issue), {**data, **change_form_data(asked), "confirm": "withdraw"})

    issue.refresh_from_db()
    assert issue.week_in_review == "Corrected words." and issue.state == IssueState.WITHDRAWN
    assert issue.corrections.get().note == "Fixed a name"


def test_the_transition_address_asks_first_too(publisher):
    issue = issue_with_stories(published=True)
    url = reverse("admin:digest_issue_transition", args=[issue.pk, "withdraw"])

    asked = publisher.post(url, {"comment": "Legal"})

    assert asked.status_code == 200
    assert "will answer 410 Gone" in asked.content.decode()
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED

    publisher.post(url, {"comment": "Legal", "confirm": "withdraw"})
    issue.refresh_from_db()
    assert issue.state == IssueState.WITHDRAWN


def test_someone_who_may_not_withdraw_is_refused_rather_than_asked():
    editor = logged_in(user_in_role("Editor"))
    issue = issue_with_stories(published=True)
    response = editor.post(
        reverse("admin:digest_issue_transition", args=[issue.pk, "withdraw"]), {"comment": "x"}, follow=True
    )
    assert "You may not withdraw issues." in messages_of(response)
    issue.refresh_from_db()
    assert issue.state == IssueState.PUBLISHED


# Share links --------------------------------------------------------------------------------


@freeze_time("2026-05-01 10:00:00")
def test_share_links_are_listed_with_their_address_maker_and_expiry(publisher, settings):
    settings.TIME_ZONE = "UTC"
    issue = issue_with_stories(state=IssueState.APPROVED)
    link = make_link(publisher, issue, days=3)

    html = publisher.get(change_url(issue)).content.decode()

    assert f'value="http://testserver{link}" readonly' in html
    assert 'class="button copy-link"' in html and "newsroom/share-links.js" in html
    assert "pat, 1 May 2026 10:00 UTC" in html  # who made it, when
    assert "4 May 2026 10:00 UTC" in html  # until when it works
    assert ">Revoke this one</button>" in html


def test_revoking_one_link_asks_first_then_only_that_link_stops_working(publisher):
    issue = issue_with_stories(state=IssueState.APPROVED)
    first, second = make_link(publisher, issue), make_link(publisher, issue)
    link = issue.share_links.order_by("created_at", "id").first()
    url = reverse("admin:digest_issue_revoke_link", args=[issue.pk, link.pk])

    asked = publisher.post(url)

    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Revoke this share link of issue" in html and f"http://testserver{first}" in html
    assert "The other share links of the issue keep working." in html
    assert shows_issue(first)

    response = publisher.post(url, {"confirm": "yes"}, follow=True)

    assert "Revoked the share link made on" in " ".join(messages_of(response))
    refused = Client().get(first)
    assert refused.status_code == 403 and "This link has expired or is invalid" in refused.content.decode()
    assert shows_issue(second)
    assert ">Revoked " in response.content.decode()
    assert IssueEvent.objects.filter(action="revoke_link").count() == 1


def test_revoking_all_links_asks_first(publisher):
    issue = issue_with_stories(state=IssueState.APPROVED)
    links = [make_link(publisher, issue), make_link(publisher, issue)]
    url = reverse("admin:digest_issue_revoke_links", args=[issue.pk])

    asked = publisher.post(url)

    assert "2 share links still working will answer “This link has expired or is invalid”" in asked.content.decode()
    assert all(shows_issue(link) for link in links)

    response = publisher.post(url, {"confirm": "yes"}, follow=True)

    assert "Revoked 2 share links" in " ".join(messages_of(response))
    assert not any(shows_issue(link) for link in links)
    assert shows_issue(make_link(publisher, issue))  # a link made afterwards works


def test_withdrawal_revokes_every_link_and_the_list_says_so(publisher):
    issue = issue_with_stories(published=True)
    links = [make_link(publisher, issue), make_link(publisher, issue)]
    publisher.post(
        reverse("admin:digest_issue_transition", args=[issue.pk, "withdraw"]), {"comment": "x", "confirm": "withdraw"}
    )
    assert not any(shows_issue(link) for link in links)
    assert issue.share_links.filter(revoked_at__isnull=False).count() == 2
    assert publisher.get(change_url(issue)).content.decode().count(">Revoked ") == 2


def test_an_expired_link_is_listed_as_expired_without_its_address(publisher):
    issue = issue_with_stories(state=IssueState.APPROVED)
    link = make_link(publisher, issue, days=1)
    with freeze_time(timezone.now() + datetime.timedelta(days=1, minutes=1)):
        html = publisher.get(change_url(issue)).content.decode()
        assert not shows_issue(link)
    assert ">Expired<" in html and link not in html


def test_a_link_of_another_issue_cannot_be_revoked_through_this_one(publisher):
    issue, other = issue_with_stories(state=IssueState.APPROVED), issue_with_stories(state=IssueState.APPROVED)
    link = make_link(publisher, other)
    other_link = other.share_links.get()
    response = publisher.post(
        reverse("admin:digest_issue_revoke_link", args=[issue.pk, other_link.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 404 and shows_issue(link)


def test_a_token_names_its_link_and_nothing_else():
    issue = issue_with_stories(state=IssueState.APPROVED)
    link = previews.make_share_link(issue=issue, by=user_in_role("Publisher"))
    assert previews.share_token(link) == previews.share_token(link)  # the list can show it again
    assert previews.issue_for_share_token(previews.share_token(link)) == issue
    link.delete()
    with pytest.raises(previews.InvalidShareLink):
        previews.issue_for_share_token(previews.share_token(link))


# Delete -------------------------------------------------------------------------------------


def test_deleting_a_withdrawn_issue_asks_first_and_says_what_readers_will_see(publisher):
    issue = issue_with_stories(state=IssueState.WITHDRAWN, slug="2026-05-11", published_at=timezone.now())
    url = reverse("admin:digest_issue_delete", args=[issue.pk])

    asked = publisher.get(url)
    html = asked.content.decode()
    assert "What readers will see" in html
    assert "/issues/2026-05-11/ and /issues/2026-05-11.pdf answer 410 Gone" in html
    assert "Once it is deleted they answer 404 Not Found" in html

    publisher.post(url, {})  # without the confirmation's "post=yes", nothing is deleted
    assert Issue.objects.filter(pk=issue.pk).exists()
    publisher.post(url, {"post": "yes"})
    assert not Issue.objects.filter(pk=issue.pk).exists()
    assert Client().get("/issues/2026-05-11/").status_code == 404


def test_deleting_selected_issues_says_what_readers_will_see(publisher):
    draft = issue_with_stories()
    withdrawn = issue_with_stories(state=IssueState.WITHDRAWN, published_at=timezone.now())
    response = publisher.post(
        reverse("admin:digest_issue_changelist"),
        {"action": "delete_selected", "_selected_action": [draft.pk, withdrawn.pk]},
    )
    html = response.content.decode()
    assert f"Issue #{draft.number} was never public: nothing changes for readers." in html
    assert f"Issue #{withdrawn.number} is withdrawn: {withdrawn.get_absolute_url()}" in html
    assert Issue.objects.filter(pk__in=[draft.pk, withdrawn.pk]).count() == 2


@pytest.mark.parametrize("role", ["Editor", "Contributor"])
def test_only_publishers_revoke_links(publisher, role):
    issue = issue_with_stories(state=IssueState.APPROVED)
    link = make_link(publisher, issue)
    other = logged_in(user_in_role(role))
    other.post(
        reverse("admin:digest_issue_revoke_link", args=[issue.pk, issue.share_links.get().pk]), {"confirm": "yes"}
    )
    other.post(reverse("admin:digest_issue_revoke_links", args=[issue.pk]), {"confirm": "yes"})
    assert shows_issue(link) and not issue.share_links.filter(revoked_at__isnull=False).exists()
    assert "Revoke this one" not in other.get(change_url(issue)).content.decode()
