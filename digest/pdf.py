"""HTML to PDF bytes with WeasyPrint: local files only, in bounded time and memory.

WeasyPrint follows the URLs in the HTML and CSS it renders, to files on this machine and
to any address on the network. ``ProjectFilesURLFetcher`` lets it read the files under a
few folders (the project's static and media files) and refuses everything else, so no
text an editor types can make the renderer read ``/etc/passwd`` or call an internal
address.

Each render runs in a child process forked from multiprocessing's fork server, which has
WeasyPrint imported already (importing it takes about a second). The child has an
address-space limit and is killed when it overruns its time: a pathological document
costs one failed render, never a hung web or Celery worker.

This module does not use Django: the fork server imports it without setting Django up.
"""

import contextlib
import dataclasses
import logging
import math
import mimetypes
import multiprocessing
import multiprocessing.process
import resource
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# Tagged PDF with a structure tree, document language and title shown by viewers.
PDF_VARIANT = "pdf/ua-1"

_processes = multiprocessing.get_context("forkserver")
# The server imports the warm-up once. Each render forked from it still imports the
# parent's main module again (multiprocessing's way), which is cheap for manage.py, Celery
# and gunicorn, whose main modules only define a function.
_processes.set_forkserver_preload(["digest.pdf_warmup"])

# Narrow enough for lines to break and words to be hyphenated: that loads the dictionary.
_WARM_UP_HTML = """<html lang="en"><style>@page { size: 60mm 80mm; @bottom-right { content: counter(page) " of "
counter(pages) } } p { hyphens: auto; text-align: justify; width: 25mm }</style><h1>Warm-up</h1><p>Hyphenation
<a href="#end">dictionaries</a> load on first use: internationalization, characterization, infrastructure,
orchestration, serialization, synchronization.</p><p id="end">Deterministic.</p></html>"""


class PDFRenderError(Exception):
    """The PDF could not be rendered; the message says why."""


class PDFRenderTimeout(PDFRenderError):
    """The render overran its time limit and was stopped."""


class URLRefused(ValueError):
    """The renderer asked for something other than one of the project's own files."""


@dataclasses.dataclass(frozen=True)
class RenderedPDF:
    data: bytes
    pages: int
    seconds: float  # wall time, from starting the child process to its result
    cpu_seconds: float  # the child's own CPU time: the render's cost, whatever else runs
    peak_rss: int  # bytes, the high-water mark of the child's resident memory


class ProjectFilesURLFetcher(URLFetcher):
    """Serve WeasyPrint the files under ``allowed_roots``, read from disk; refuse all else.

    Only ``file:`` URLs naming a regular file inside one of the roots are served, after
    symbolic links and ``..`` are resolved. No network scheme is ever opened, so there is
    no redirect to follow either; ``data:`` URLs are refused too, since the templates never
    need one and they could smuggle content into the PDF.
    """

    def __init__(self, allowed_roots):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, fail_on_errors=False)
        self.allowed_roots = tuple(Path(root).resolve() for root in allowed_roots)

    def fetch(self, url, headers=None):
        path = self.local_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type})

    def local_path(self, url):
        """Return the file ``url`` names, or raise URLRefused if the renderer may not read it."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise URLRefused(f"Refused {url[:200]!r}: the PDF renderer reads only the project's own files.")
        path = Path(url2pathname(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.allowed_roots) or not path.is_file():
            raise URLRefused(f"Refused {url[:200]!r}: not a static or media file of the project.")
        return path


def write_pdf(html, *, stylesheet, allowed_roots, identifier):
    """Render ``html`` styled by the ``stylesheet`` file, in this process.

    Return the PDF bytes and the page count. ``identifier`` (bytes) becomes the PDF's file
    identifier, so that the same input gives the same bytes. Dates come from the
    ``dcterms.created`` and ``dcterms.modified`` meta elements of the HTML, never the clock.
    """
    fetcher = ProjectFilesURLFetcher(allowed_roots)
    font_config = FontConfiguration()
    css = weasyprint.CSS(filename=stylesheet, url_fetcher=fetcher, font_config=font_config)
    # No base URL: a relative URL in the HTML resolves to nothing rather than to a file.
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=[css], pdf_variant=PDF_VARIANT
    )
    data = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_identifier=identifier)
    return data, len(document.pages)


def warm_up():
    """Render a small document, so that what WeasyPrint loads on first use is loaded."""
    weasyprint.HTML(string=_WARM_UP_HTML, url_fetcher=ProjectFilesURLFetcher([])).write_pdf(pdf_variant=PDF_VARIANT)


def render_pdf(html, *, stylesheet, allowed_roots, identifier, timeout, memory_limit):
    """Render ``html`` to a RenderedPDF in a child process, within the given bounds.

    ``timeout`` is in seconds of wall time, ``memory_limit`` in bytes of address space.
    Raise PDFRenderTimeout when the child overruns its time (it is killed), PDFRenderError
    when it fails in any other way, including running out of memory.
    """
    receiver, sender = _processes.Pipe(duplex=False)
    started = time.perf_counter()
    with _children_allowed():
        child = _processes.Process(
            target=_render_in_child,
            args=(
                sender,
                html,
                str(stylesheet),
                [str(root) for root in allowed_roots],
                identifier,
                timeout,
                memory_limit,
            ),
            name="pdf-render",
            daemon=True,
        )
        child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            child.kill()
            raise PDFRenderTimeout(f"Rendering the PDF took longer than {timeout:g} s and was stopped.")
        try:
            outcome = receiver.recv()
        except EOFError:
            child.join()
            raise PDFRenderError(
                f"The PDF renderer stopped without a result (exit code {child.exitcode}): it may have "
                f"run out of its {memory_limit // 2**20} MiB of memory; its error output says more."
            ) from None
    finally:
        receiver.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
    if outcome[0] == "error":
        raise PDFRenderError(outcome[1])
    _, data, pages, cpu_seconds, peak_rss = outcome
    return RenderedPDF(
        data=data, pages=pages, seconds=time.perf_counter() - started, cpu_seconds=cpu_seconds, peak_rss=peak_rss
    )


@contextlib.contextmanager
def _children_allowed():
    """Let any process start the render child, a Celery prefork worker included.

    Celery's pool processes come from billiard, multiprocessing's fork: the standard library
    sees them as daemonic, which may not start children since a daemonic process can be
    killed without stopping them (the render child has its own CPU-time limit, so it cannot
    outlive its parent by more than that); and their auth key is billiard's, which the fork
    server cannot be sent. Both are set back as they were once the child has started.
    """
    config = multiprocessing.current_process()._config
    saved = dict(config)
    config.pop("daemon", None)
    config["authkey"] = multiprocessing.process.AuthenticationString(bytes(config["authkey"]))
    try:
        yield
    finally:
        config.clear()
        config.update(saved)


def _render_in_child(connection, html, stylesheet, allowed_roots, identifier, timeout, memory_limit):
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    # A backstop for the parent's timeout, should the parent die first: the kernel stops us.
    cpu_limit = math.ceil(timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, cpu_limit + 1))
    try:
        data, pages = write_pdf(html, stylesheet=stylesheet, allowed_roots=allowed_roots, identifier=identifier)
    except MemoryError:
        connection.send(("error", f"Rendering the PDF ran out of its {memory_limit // 2**20} MiB of memory."))
    except Exception as error:
        logger.exception("Rendering the PDF failed")
        connection.send(("error", f"Rendering the PDF failed: {type(error).__name__}: {error}"))
    else:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        # Linux counts ru_maxrss in KiB.
        connection.send(("ok", data, pages, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024))
    connection.close()
