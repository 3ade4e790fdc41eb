"""The OpenAPI document: valid, complete, and documenting the webhooks' payloads."""

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

from webhooks.events import EVENT_TYPES

pytestmark = pytest.mark.django_db


def test_the_openapi_document_is_valid_and_names_every_endpoint_and_webhook(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    validate(document)  # raises on any violation of the OpenAPI 3.1 specification
    paths = set(document["paths"])
    for path in ("/api/v1/issues/", "/api/v1/issues/{slug}/", "/api/v1/stories/", "/api/v1/companies/",
                 "/api/v1/companies/{slug}/", "/api/v1/themes/", "/api/v1/themes/{slug}/", "/api/v1/tags/",
                 "/api/v1/tags/{slug}/", "/api/v1/search/"):  # fmt: skip
        assert path in paths, path
    assert "410" in document["paths"]["/api/v1/issues/{slug}/"]["get"]["responses"]
    assert set(document["webhooks"]) == set(EVENT_TYPES)
    published = document["webhooks"]["issue.published"]["post"]["requestBody"]["content"]["application/json"]
    schema = document["components"]["schemas"][published["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"type", "timestamp", "data"}
    assert schema["properties"]["type"]["const"] == "issue.published"


def test_the_docs_page_is_served_from_our_own_static_files(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/api/v1/openapi.json" in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui-init.js")
