"""The renderer reads the project's own files and nothing else, and cannot hang a worker."""

import http.server
import io
import multiprocessing
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from pypdf import PdfReader

from digest import pdf
from digest.edition import _allowed_roots, _stylesheet_path, render_edition
from tests.factories import CompanyFactory, IssueFactory, PlacementFactory, SourceFactory, StoryFactory

PASSWD_LINE = "root:x:0:0"


@pytest.fixture
def trap_server():
    """A local HTTP server that records every request; /redirect answers with a redirect."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                return
            body = b"body { background: red }" if self.path.endswith(".css") else b"trap"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def hostile_values(trap):
    return [
        "file:///etc/passwd",
        f"{trap}/plain",
        "http://169.254.169.254/latest/meta-data/",
        f"{trap}/redirect",
        f'<img src="{trap}/img.png"><img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        f'<link rel="stylesheet" href="{trap}/style.css">',
        f'<style>@import url("{trap}/import.css"); body {{ background: url("{trap}/bg.png") }}</style>',
        f'<object data="{trap}/object"></object><iframe src="{trap}/iframe"></iframe>',
    ]


def markdown_payload(trap):
    """Markdown and raw HTML an editor could type into a summary or an issue text."""
    return "\n\n".join(
        [
            f"![image]({trap}/markdown-image.png) and ![local](file:///etc/passwd)",
            f"[a link](file:///etc/passwd), [another]({trap}/link) and [relative](../../../../etc/passwd)",
            *hostile_values(trap),
        ]
    )


def assert_safe_pdf(data, hits):
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert PASSWD_LINE not in text
    assert hits == []
    catalog = reader.trailer["/Root"]
    assert "/EmbeddedFiles" not in catalog.get("/Names", {})
    for page in reader.pages:
        annotations = [annotation.get_object() for annotation in page.get("/Annots", [])]
        assert all(annotation["/Subtype"] != "/FileAttachment" for annotation in annotations)
        assert not any(
            xobject.get_object().get("/Subtype") == "/Image"
            for xobject in page["/Resources"].get("/XObject", {}).values()
        )
    return text


@pytest.mark.django_db
def test_hostile_values_in_every_editable_field_are_printed_as_text_and_fetch_nothing(trap_server):
    trap, hits = trap_server
    values = hostile_values(trap)
    issue = IssueFactory(published=True, week_in_review=markdown_payload(trap), patterns=markdown_payload(trap))
    for position, value in enumerate(values):
        story = StoryFactory(
            title=f"Story {position} {value}",
            summary=markdown_payload(trap),
            companies=[CompanyFactory(name=f"Company {position} {value}"[:120])],
            sources=[],
        )
        # Saved without form validation, as a buggy import could: the template and the
        # fetcher are what stand between these and the renderer.
        SourceFactory(story=story, title=f"Source {value}", publisher=value[:120], url=value)
        PlacementFactory(issue=issue, story=story, position=position)

    text = assert_safe_pdf(render_edition(issue).data, hits)
    flat = " ".join(text.split())
    assert 'Story 5 <link rel="attachment" href="file:///etc/passwd">' in flat  # shown, not obeyed


def test_markup_that_escapes_escaping_still_fetches_nothing(trap_server):
    """The second wall: HTML with real tags pointing outside reaches the fetcher, which refuses."""
    trap, hits = trap_server
    html = f"""<!doctype html><html lang="en"><head><title>Hostile</title>
    <link rel="stylesheet" href="{trap}/style.css"><link rel="stylesheet" href="file:///etc/passwd">
    <link rel="attachment" href="file:///etc/passwd"><link rel="attachment" href="{trap}/attachment">
    <style>@import url("{trap}/import.css"); @import url("file:///etc/passwd");
    body {{ background: url("{trap}/bg.png") }} p {{ background: url("file:///etc/hostname") }}
    @font-face {{ font-family: Trap; src: url("{trap}/font.ttf"), local("DejaVu Sans") }}</style></head>
    <body><p>Hostile document</p><img src="{trap}/img.png"><img src="file:///etc/passwd">
    <img src="http://169.254.169.254/latest/meta-data/"><img src="{trap}/redirect">
    <img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><image href='file:///etc/passwd'/></svg>">
    <object data="{trap}/object"></object><embed src="file:///etc/passwd"><iframe src="{trap}/iframe"></iframe>
    <svg xmlns="http://www.w3.org/2000/svg"><image href="{trap}/svg-image.png" width="10" height="10"/></svg>
    <a href="{trap}/not-fetched-only-linked">a link is not a fetch</a></body></html>"""
    rendered = pdf.render_pdf(
        html,
        stylesheet=_stylesheet_path(),
        allowed_roots=_allowed_roots(),
        identifier=b"hostile",
        timeout=60,
        memory_limit=2**30,
    )
    assert "Hostile document" in assert_safe_pdf(rendered.data, hits)


@pytest.fixture
def project_files(tmp_path):
    root = tmp_path / "static"
    (root / "pdf").mkdir(parents=True)
    (root / "pdf" / "print.css").write_text("p { color: black }")
    (root / "escape").symlink_to("/etc/passwd")
    return root


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://attacker.example/etc/passwd",
        "FILE:///etc/passwd",
        "file:///etc/passwd?x=1#y",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/style.css",
        "ftp://example.com/file",
        "data:text/plain,hello",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "javascript:alert(1)",
        "/etc/passwd",
        "",
    ],
)
def test_fetcher_refuses_everything_but_project_files(project_files, url):
    fetcher = pdf.ProjectFilesURLFetcher([project_files])
    with pytest.raises(pdf.URLRefused):
        fetcher(url)


def test_fetcher_refuses_escapes_from_its_folders(project_files):
    fetcher = pdf.ProjectFilesURLFetcher([project_files])
    for url in (
        f"{project_files.as_uri()}/../../../../etc/passwd",
        f"{project_files.as_uri()}/pdf/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{project_files.as_uri()}/escape",  # a symbolic link to /etc/passwd
        f"{project_files.as_uri()}/pdf",  # a folder, not a file
        f"{project_files.as_uri()}/pdf/missing.css",
    ):
        with pytest.raises(pdf.URLRefused):
            fetcher(url)


def test_fetcher_serves_project_files_from_disk(project_files):
    response = pdf.ProjectFilesURLFetcher([project_files])(f"{project_files.as_uri()}/pdf/print.css")
    assert response.read() == b"p { color: black }"
    assert response.content_type == "text/css"


def test_fetcher_never_opens_a_connection(trap_server):
    trap, hits = trap_server
    fetcher = pdf.ProjectFilesURLFetcher([_stylesheet_path().parent])
    for path in ("/plain", "/redirect", "/style.css"):
        with pytest.raises(pdf.URLRefused):
            fetcher(f"{trap}{path}")
    assert hits == []


LONG_DOCUMENT = '<html lang="en"><body>' + "<p>A paragraph of the pathological issue.</p>" * 3000 + "</body></html>"


def render_long_document(**bounds):
    return pdf.render_pdf(
        LONG_DOCUMENT, stylesheet=_stylesheet_path(), allowed_roots=_allowed_roots(), identifier=b"long", **bounds
    )


def test_a_render_that_overruns_its_time_is_stopped():
    started = time.monotonic()
    with pytest.raises(pdf.PDFRenderTimeout, match=r"longer than 0\.5 s"):
        render_long_document(timeout=0.5, memory_limit=2**30)
    assert time.monotonic() - started < 10
    assert not [child for child in multiprocessing.active_children() if child.name == "pdf-render"]


def test_a_render_that_overruns_its_memory_is_stopped():
    with pytest.raises(pdf.PDFRenderError, match="64 MiB"):
        render_long_document(timeout=60, memory_limit=64 * 2**20)
    assert not [child for child in multiprocessing.active_children() if child.name == "pdf-render"]


CELERY_LIKE_WORKER = """
import sys
import billiard

def work(stylesheet, roots):
    from digest.pdf import render_pdf
    html = '<html lang="en"><p>From a Celery worker</p></html>'
    bounds = {"timeout": 60, "memory_limit": 2**30}
    rendered = render_pdf(html, stylesheet=stylesheet, allowed_roots=roots, identifier=b"w", **bounds)
    sys.stdout.write(f"pages={rendered.pages}")
    sys.stdout.flush()

worker = billiard.Process(target=work, args=(sys.argv[1], sys.argv[2:]), daemon=True)
worker.start()
worker.join(60)
sys.exit(worker.exitcode)
"""


def test_a_celery_prefork_worker_can_render():
    """Celery's pool processes are billiard's daemonic processes, which multiprocessing distrusts."""
    result = subprocess.run(
        [sys.executable, "-c", CELERY_LIKE_WORKER, str(_stylesheet_path()), *map(str, _allowed_roots())],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=90,
    )
    assert result.stdout == "pages=1", result.stderr[-2000:]
