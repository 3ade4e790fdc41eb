"""Every page type's HTML (and the stylesheet) passes the Nu Html Checker without errors."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

VNU_JAR = settings.BASE_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def test_every_page_type_is_valid_html(client, reader_pages, tmp_path):
    if not VNU_JAR.exists():
        pytest.fail(f"The Nu Html Checker is missing at {VNU_JAR}: run `npm ci` (make install does).")
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is needed to run the Nu Html Checker: install default-jre-headless (bin/system-deps).")
    files = []
    for name, url in reader_pages.items():
        response = client.get(url)
        assert response.status_code in (200, 400, 404, 410), url
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files.append(path)
    stylesheet = Path(settings.BASE_DIR / "static" / "css" / "site.css")
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--also-check-css", *files, stylesheet],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    problems = [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert problems == []
