"""A real HTTP server on loopback serving feeds for the intake's tests and benchmark.

Routes are set by the test: a path maps to ``(status, headers, body)`` or to a function of
the request handler returning one. Every request is logged (method, path, headers), so a
test can see what the fetcher sent.
"""

import contextlib
import json
import threading
import time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class FeedServer:
    def __init__(self):
        self.routes, self.requests = {}, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self._answer(send_body=True)

            def do_HEAD(self):
                self._answer(send_body=False)

            def _answer(self, send_body):
                path = self.path.split("?")[0]
                server.requests.append((self.command, self.path, dict(self.headers)))
                route = server.routes.get(path) or server.routes.get(path.rsplit("/", 1)[0] + "/*")
                if route is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, headers, body = route(self) if callable(route) else route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and status != 304:
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                        self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 128
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_to(self, path):
        return [(method, headers) for method, full, headers in self.requests if full.split("?")[0] == path]


def rss(entries, *, title="A blog"):
    items = "".join(
        f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>"
        f"<description>{escape(e.get('summary', ''))}</description>"
        f"<author>{escape(e.get('author', ''))}</author>"
        f"<pubDate>{format_datetime(e['published'])}</pubDate></item>"
        for e in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>https://blog.example.com/</link><description>Posts</description>{items}</channel></rss>"
    ).encode()


def atom(entries, *, title="An Atom blog"):
    items = "".join(
        f'<entry><title>{escape(e["title"])}</title><link href="{escape(e["link"])}"/>'
        f"<id>{escape(e['link'])}</id><updated>{e['published'].isoformat()}</updated>"
        f"<author><name>{escape(e.get('author', ''))}</name></author>"
        f'<summary type="html">{escape(e.get("summary", ""))}</summary></entry>'
        for e in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:x</id><updated>2026-11-30T00:00:00Z</updated>{items}</feed>"
    ).encode()


def json_feed(entries, *, title="A JSON blog"):
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "items": [
                {
                    "id": e["link"],
                    "url": e["link"],
                    "title": e["title"],
                    "content_text": e.get("summary", ""),
                    "date_published": e["published"].isoformat(),
                    "authors": [{"name": e.get("author", "")}],
                }
                for e in entries
            ],
        }
    ).encode()


def slow(seconds, answer):
    def route(handler):
        time.sleep(seconds)
        return answer

    return route
