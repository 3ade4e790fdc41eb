"""The API's human documentation: Swagger UI from the files django-ninja ships, served by us.

Nothing comes from a CDN, and the page needs no exception to the site's Content-Security-
Policy: the UI's settings travel as a JSON data block, read by a static script.
"""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from reader.page_cache import public_page


@require_safe
@public_page
def api_docs(request):
    settings = {"url": reverse("api:openapi-json"), "layout": "BaseLayout", "deepLinking": True}
    return render(request, "api/docs.html", {"swagger_settings": settings})
