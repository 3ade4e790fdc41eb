"""Other apps add panels to an issue's admin page through the newsroom's registry."""

import pytest
from django.urls import reverse

from newsroom.panels import register_issue_panel, unregister_issue_panel
from tests.factories import IssueFactory


@pytest.fixture
def mailing_panel(settings, tmp_path):
    """What a newsletter app would register from its AppConfig.ready()."""
    (tmp_path / "mailing_panel.html").write_text(
        '<section class="mailing"><h2>Mailing</h2><p>{{ issue.title }}: {{ recipients }} recipients</p></section>'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]

    def context(request, issue):
        return {"recipients": 1200} if issue.state == "published" else None

    register_issue_panel("mailing", template="mailing_panel.html", context=context)
    yield
    unregister_issue_panel("mailing")


@pytest.mark.django_db
def test_a_registered_panel_shows_on_the_issue_page_where_it_applies(admin_client, mailing_panel):
    published = IssueFactory(published=True, title="Week <one>")
    draft = IssueFactory()
    page = admin_client.get(reverse("admin:digest_issue_change", args=[published.pk])).content.decode()
    assert '<section class="mailing"><h2>Mailing</h2><p>Week &lt;one&gt;: 1200 recipients</p></section>' in page
    page = admin_client.get(reverse("admin:digest_issue_change", args=[draft.pk])).content.decode()
    assert '<section class="mailing">' not in page  # (the admin's menu names the newsletter's Mailings)
