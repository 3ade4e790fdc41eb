"""Feed documents to plain-text entries, and canonical addresses: pure functions, no server."""

import pytest

from intake.canonical import NotAWebAddress, canonical_url
from intake.parsing import MAX_ENTRIES, FeedUnreadable, parse_feed, plain_text


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://Blog.Example.COM:443/Post?utm_source=rss&utm_medium=x&id=3#top",
            "https://blog.example.com/Post?id=3",
        ),
        ("http://blog.example.com:80", "http://blog.example.com/"),
        (
            "https://blog.example.com:8443/a?fbclid=1&gclid=2&mc_cid=3&b=1&a=2",
            "https://blog.example.com:8443/a?b=1&a=2",
        ),
        ("https://user:pw@blog.example.com./p", "https://blog.example.com/p"),
        # A right-to-left override would show ".../\u202egnp.exe" as ".../exe.png" (a reviewer's find).
        ("https://example.com/\u202egnp.exe", "https://example.com/%E2%80%AEgnp.exe"),
        ("https://example.com/caf\u00e9/\u200bpost", "https://example.com/caf\u00e9/%E2%80%8Bpost"),
    ],
)
def test_canonical_addresses(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.example/", "//no-scheme", ""])
def test_only_web_addresses_are_canonical(url):
    with pytest.raises(NotAWebAddress):
        canonical_url(url)


def test_a_body_that_names_a_file_or_a_url_is_never_opened():
    for body in [b"/etc/passwd", b"http://127.0.0.1:1/feed", b"file:///etc/hostname"]:
        with pytest.raises(FeedUnreadable):
            parse_feed(body, content_type="text/plain")


def test_a_json_feed_is_read_and_its_hostile_parts_made_inert():
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "<b>Blog</b>", "items": ['
        b'{"url": "/relative?utm_campaign=x", "title": "A &amp; B <script>x()</script>", "summary": "\\u0000S\\u202e",'
        b' "date_published": "2026-11-20T10:00:00Z", "author": {"name": "Ann"}},'
        b'{"url": "javascript:alert(1)", "title": "Bad"}, "not an item", {"title": "no link"}]}'
    )
    feed = parse_feed(body, content_type="application/feed+json", url="https://blog.example.com/feed.json")
    assert feed.title == "Blog"
    (entry,) = feed.entries
    assert (entry.link, entry.title, entry.summary, entry.author) == (
        "https://blog.example.com/relative",
        "A & B",
        "S",
        "Ann",
    )
    assert entry.published_at.isoformat() == "2026-11-20T10:00:00+00:00"
    with pytest.raises(FeedUnreadable, match=r"no jsonfeed\.org version"):
        parse_feed(b'{"items": []}', content_type="application/json")


def test_at_most_max_entries_are_read():
    items = "".join(f"<item><title>{n}</title><link>https://b.example.com/{n}</link></item>" for n in range(500))
    feed = parse_feed(f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode())
    assert len(feed.entries) == MAX_ENTRIES


def test_plain_text_is_cut_before_it_is_cleaned():
    assert plain_text("<p>" + "a" * 10_000_000, 300) == "a" * 300
    assert plain_text("<i>x</i>  &lt;y&gt;\n z", 300) == "x <y> z"
