"""JSON Feed 1.1 beside RSS and Atom: the spec's required fields, the same items, linked from the pages."""

import pytest

from tests.reader_pages import build_reader_pages

pytestmark = pytest.mark.django_db


def check_json_feed(response, feed_url):
    """What https://jsonfeed.org/version/1.1 requires (and the URLs it recommends), checked as a reader app would."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/feed+json")
    feed = response.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert feed["feed_url"] == feed_url and feed["home_page_url"].startswith("http://testserver/")
    assert isinstance(feed["items"], list) and feed["items"]
    ids = [item["id"] for item in feed["items"]]
    assert all(isinstance(item_id, str) and item_id for item_id in ids) and len(set(ids)) == len(ids)
    for item in feed["items"]:
        assert item.get("content_html") or item.get("content_text")
        assert item["url"].startswith("http://testserver/")
        assert item["date_published"][:4].isdigit()
    return feed


def test_the_site_feed_company_and_theme_feeds(client):
    pages = build_reader_pages()
    feed = check_json_feed(client.get("/feed.json"), "http://testserver/feed.json")
    assert feed["items"][0]["title"] == "Engineering @ Scale — Week of 2026-04-18 to 2026-05-01"
    assert "<h2>Top Stories</h2>" in feed["items"][0]["content_html"]
    assert len(feed["items"]) == 2  # the withdrawn issue is not in it

    company = pages["company"].strip("/").split("/")[-1]
    company_feed = check_json_feed(
        client.get(f"/companies/{company}/feed.json"), f"http://testserver/companies/{company}/feed.json"
    )
    assert len(company_feed["items"]) == 2
    theme = pages["theme"].strip("/").split("/")[-1]
    check_json_feed(client.get(f"/themes/{theme}/feed.json"), f"http://testserver/themes/{theme}/feed.json")
    assert client.get("/companies/no-such-company/feed.json").status_code == 404


def test_pages_link_their_json_feed_in_their_head(client):
    pages = build_reader_pages()
    assert '<link rel="alternate" type="application/feed+json"' in client.get("/").content.decode()
    company_page = client.get(pages["company"]).content.decode()
    assert 'type="application/feed+json" title="' in company_page
    assert f'href="{pages["company"]}feed.json"' in company_page
    theme_page = client.get(pages["theme"]).content.decode()
    assert f'href="{pages["theme"]}feed.json"' in theme_page
