"""PDFs on S3-compatible object storage: moto's standalone S3 server on loopback stands in
for the bucket, django-storages talks to it as it would to AWS.

Publish stores the PDF in the bucket, the site sends readers to a short-lived signed address
of it, a correction replaces the object, withdrawal deletes it while the site answers 410,
and a deletion the storage refused is retried by the beat.
"""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.db import transaction

from digest import corrections, publishing, tasks, workflow
from digest.models import DiscardedFile, IssueState, RunState
from tests.factories import issue_with_stories, user_in_role

pytestmark = pytest.mark.django_db

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url):
    """GET ``url`` as a reader's browser would; return (status, content type, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own loopback server
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server, on a free port on 127.0.0.1, for the tests of this module."""
    port = free_port()
    server = subprocess.Popen(
        [Path(sys.executable).parent / "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while fetch_ok(endpoint + "/moto-api/") is False:
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("moto_server (moto[server], requirements-dev.txt) did not start")
        time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


def opens_nothing(url):
    """The address serves no PDF: the object is gone (S3 says 404, or 403 to whoever may not list the bucket)."""
    status, _, body = fetch(url)
    return status in (403, 404) and not body.startswith(b"%PDF")


def fetch_ok(url):
    try:
        return fetch(url)[0] == 200
    except OSError:
        return False


def s3_options(endpoint, bucket):
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": CREDENTIALS["region_name"],
        "access_key": CREDENTIALS["aws_access_key_id"],
        "secret_key": CREDENTIALS["aws_secret_access_key"],
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
    }


@pytest.fixture
def bucket(settings, s3_endpoint):
    """A bucket of the test's own, and the site's media storage on it, as ``MEDIA_BUCKET`` sets it."""
    name = f"digest-media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_options(s3_endpoint, name)},
    }
    settings.MEDIA_URL_EXPIRE_SECONDS = 300

    def objects():
        listed = client.list_objects_v2(Bucket=name).get("Contents", [])
        return {item["Key"]: client.get_object(Bucket=name, Key=item["Key"])["Body"].read() for item in listed}

    return objects


@pytest.fixture
def publisher():
    return user_in_role("Publisher")


def published_issue(committed, publisher):
    issue = issue_with_stories(state=IssueState.APPROVED, top=1, threads=0)
    with committed():
        run = publishing.publish(issue=issue, by=publisher)
    run.refresh_from_db()
    assert run.state == RunState.COMPLETED, (run.state, run.last_error)
    issue.refresh_from_db()
    return issue


def follow_pdf_link(client, issue):
    """Ask the site for the issue's PDF; return the signed address it redirects to, and what it serves."""
    response = client.get(f"/issues/{issue.slug}.pdf")
    assert response.status_code == 302, response.status_code
    assert "no-store" in response["Cache-Control"]  # a signed address must not outlive its signature
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"]
    return location, fetch(location)


def test_a_pdf_lives_in_the_bucket_from_publication_to_withdrawal(client, bucket, committed, publisher):
    issue = published_issue(committed, publisher)

    stored = bucket()
    assert list(stored) == [issue.pdf.name] and issue.pdf.name.startswith("issues/pdf/")
    first_address, (status, content_type, body) = follow_pdf_link(client, issue)
    assert (status, content_type) == (200, "application/pdf")
    assert body.startswith(b"%PDF-") and body == stored[issue.pdf.name]
    unsigned = first_address.split("?")[0]
    assert fetch(unsigned)[0] == 403  # the object is private: only a signed address opens it

    with committed(), transaction.atomic():
        issue.week_in_review = "A corrected week."
        issue.save()
        corrections.record_correction(issue=issue, by=publisher, note="Corrected the week.")
    old_name = issue.pdf.name
    issue.refresh_from_db()

    stored = bucket()
    assert issue.pdf.name != old_name and list(stored) == [issue.pdf.name]  # replaced, the old one deleted
    assert opens_nothing(first_address)  # the old address no longer serves the old edition
    second_address, (status, _, body) = follow_pdf_link(client, issue)
    assert status == 200 and body == stored[issue.pdf.name] and body != b""

    with committed():
        workflow.withdraw(issue=issue, by=publisher, comment="Taken down.")

    assert bucket() == {}
    assert client.get(f"/issues/{issue.slug}.pdf").status_code == 410
    assert client.get(issue.get_absolute_url()).status_code == 410
    assert opens_nothing(second_address)  # an address handed out before opens nothing
    assert not DiscardedFile.objects.exists()


def test_a_deletion_the_storage_refused_is_retried_by_the_beat(client, bucket, settings, committed, publisher):
    issue = published_issue(committed, publisher)
    working = settings.STORAGES
    unreachable = {**working["default"]["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    settings.STORAGES = {**working, "default": {**working["default"], "OPTIONS": unreachable}}
    with committed():
        workflow.withdraw(issue=issue, by=publisher, comment="Taken down.")

    assert client.get(f"/issues/{issue.slug}.pdf").status_code == 410  # at once, whatever the storage
    pending = DiscardedFile.objects.get()
    assert pending.attempts == 1 and pending.last_error
    assert list(bucket()) == [pending.name]

    settings.STORAGES = working  # the storage is back
    tasks.delete_discarded_files()  # the beat's minute
    assert bucket() == {} and not DiscardedFile.objects.exists()
