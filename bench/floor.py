"""The floor of the issue page's figures: a bare Django template render of the same HTML.

The benchmark serves the site under ``bench.settings`` (the production settings, plus these
addresses), so the floor runs in the same gunicorn workers, through the same middleware, as
the pages it is compared with. ``/bench/floor/`` renders, on each request, a Django template
whose text is the issue page's own HTML (written to ``FLOOR_TEMPLATE`` by ``bench/run.py``
before the server starts), with no context and no query: what any Django page of that size
costs before it reads a database. Issue 17 allows it in place of a minimal Wagtail page.
"""

import functools
from pathlib import Path

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from config.urls import handler403
from config.urls import urlpatterns as site_urlpatterns

FLOOR_TEMPLATE = Path(__file__).resolve().parent.parent / "var" / "bench-floor.html"


@functools.cache
def _template():
    # verbatim: the page's own text may contain "{{", which must be shown, not evaluated.
    return engines["django"].from_string("{% verbatim %}" + FLOOR_TEMPLATE.read_text() + "{% endverbatim %}")


def floor(request):
    return HttpResponse(_template().render({}, request))


urlpatterns = [path("bench/floor/", floor), *site_urlpatterns]
__all__ = ["handler403", "urlpatterns"]
