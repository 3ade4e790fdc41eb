"""OPML import, from the command line and the admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from companies.models import Company
from intake.models import Feed
from tests.factories import CompanyFactory, FeedFactory

pytestmark = pytest.mark.django_db

OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>Engineering blogs</title></head><body>
  <outline text="Netflix TechBlog" type="rss" xmlUrl="https://netflixtechblog.com/feed"/>
  <outline text="Cloudflare">
    <outline text="The Cloudflare Blog" type="rss" xmlUrl="https://blog.cloudflare.com/rss/"/>
    <outline text="Cloudflare Radar" type="rss" xmlUrl="https://blog.cloudflare.com/tag/radar/rss/"/>
  </outline>
  <outline text="Figma Engineering" type="rss" xmlUrl="https://www.figma.com/blog/feed/atom.xml"/>
  <outline text="Sneaky" type="rss" xmlUrl="http://169.254.169.254/latest/meta-data/"/>
  <outline text="Local" type="rss" xmlUrl="file:///etc/passwd"/>
  <outline text="Known" type="rss" xmlUrl="https://known.example.com/feed"/>
</body></opml>"""


def test_the_command_adds_feeds_matching_companies_by_name_or_creating_them(tmp_path, capsys):
    netflix = CompanyFactory(name="Netflix")
    cloudflare = CompanyFactory(name="cloudflare")
    FeedFactory(url="https://known.example.com/feed")
    path = tmp_path / "blogs.opml"
    path.write_bytes(OPML)
    call_command("import_opml", str(path))
    out, err = capsys.readouterr()
    assert "4 feeds added, 1 already known, 1 companies created (Figma" in out
    assert "169.254.169.254" in err and "file:///etc/passwd" in err
    assert Feed.objects.get(url="https://netflixtechblog.com/feed").company == netflix
    assert Feed.objects.filter(company=cloudflare).count() == 2
    figma = Feed.objects.get(url="https://www.figma.com/blog/feed/atom.xml")
    assert (figma.company.name, figma.company.slug, figma.title) == ("Figma", "figma", "Figma Engineering")
    assert not Feed.objects.filter(url__contains="169.254").exists()


def test_a_file_that_is_not_opml_is_refused_and_nothing_is_written(tmp_path):
    for name, content in [
        ("broken.opml", OPML[:300]),
        ("html.opml", b"<html><body>hi</body></html>"),
        (
            "bomb.opml",
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b"<opml><body><outline text='&lol2;' xmlUrl='https://a.example.com/'/></body></opml>",
        ),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CommandError, match="Not an OPML file"):
            call_command("import_opml", str(path))
    assert not Feed.objects.exists() and not Company.objects.exists()


def test_the_admin_imports_an_uploaded_file(admin_client):
    response = admin_client.post(
        "/admin/intake/feed/import-opml/", {"file": SimpleUploadedFile("blogs.opml", OPML)}, follow=True
    )
    html = response.content.decode()
    assert "OPML imported: 5 feeds added" in html and "Skipped http://169.254.169.254" in html
    assert Feed.objects.count() == 5
    refused = admin_client.post("/admin/intake/feed/import-opml/", {"file": SimpleUploadedFile("x.opml", b"nope")})
    assert "Not an OPML file" in refused.content.decode() and Feed.objects.count() == 5


def test_outlines_nested_without_end_are_a_clear_error_not_a_crash(admin_client):
    """A reviewer's find: 5,000 nested folders (95 KB) raised RecursionError, a 500 in the admin."""
    nested = "<outline text='x'>" * 5000 + "</outline>" * 5000
    data = f"<opml version='2.0'><body>{nested}</body></opml>".encode()
    response = admin_client.post(
        "/admin/intake/feed/import-opml/", {"file": SimpleUploadedFile("deep.opml", data, "text/x-opml")}
    )
    assert response.status_code == 200 and "nests its outlines more than" in response.content.decode()
    assert not Feed.objects.exists()
