"""The XSS corpus leaves the machine-read outputs intact: feeds parse, JSON-LD parses, the PDF has no script."""

import io
import json
import re

import feedparser
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from tests.xss_corpus import plant_xss_corpus

# PDF keys that run code or act by themselves when a file is opened or a page is shown.
ACTIVE_PDF_KEYS = {"/JavaScript", "/JS", "/OpenAction", "/AA", "/Launch", "/SubmitForm", "/ImportData", "/RichMedia"}


@pytest.fixture
def corpus(db):
    return plant_xss_corpus()


def public_feed_urls(corpus):
    urls = ["/feed/", "/feed/atom/"]
    for topic in (*corpus["companies"], *corpus["themes"]):
        urls += [f"{topic.get_absolute_url()}feed/", f"{topic.get_absolute_url()}feed/atom/"]
    return urls


def test_feeds_stay_valid_with_the_corpus_in_every_field(client, corpus):
    for url in public_feed_urls(corpus):
        response = client.get(url)
        assert response.status_code == 200, url
        feed = feedparser.parse(response.content)
        assert feed.bozo == 0, f"{url}: {feed.get('bozo_exception')}"
        assert feed.entries, f"{url} lists nothing"
    titles = [entry.title for entry in feedparser.parse(client.get("/feed/").content).entries]
    assert corpus["issue"].title in titles, "the title reaches readers as text, neither lost nor mangled"


def test_json_ld_stays_valid_json_with_the_corpus_in_every_field(client, corpus):
    page = client.get(corpus["issue"].get_absolute_url()).content.decode()
    blocks = re.findall(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S)
    assert blocks, "the issue page has no JSON-LD"
    data = [json.loads(block) for block in blocks]
    headlines = [part["headline"] for block in data for part in block.get("hasPart", [])]
    assert sorted(headlines) == sorted(story.title for story in corpus["stories"])


def _active_keys(obj, seen):
    """Yield every active key reachable from ``obj`` in the PDF's object graph."""
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            if key in ACTIVE_PDF_KEYS:
                yield key
            if key == "/S" and value in ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData"):
                yield f"/S {value}"
            yield from _active_keys(value, seen)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            yield from _active_keys(item, seen)


def test_the_stored_pdf_has_no_javascript_or_actions(corpus):
    reader = PdfReader(corpus["issue"].pdf.path)
    assert list(_active_keys(reader.trailer, set())) == []
    # Links go to web pages or inside the document, never to a script.
    uris = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object() and "/URI" in annotation.get_object()["/A"]
    ]
    assert uris and all(uri.startswith(("https://", "http://")) for uri in uris), uris
    text = "".join(page.extract_text() for page in reader.pages[:3])
    assert "__xss(" in text, "the payloads are in the PDF as text"


def test_the_pdf_check_finds_a_planted_script():
    """The check above can fail: a PDF with an opening script is caught."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_open_action(JavaScript("app.alert('planted');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "/JavaScript" in set(_active_keys(PdfReader(buffer).trailer, set()))
