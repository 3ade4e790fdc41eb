"""Publish latency: from the publish request to the public page answering 200, run complete.

Runs the production settings against PostgreSQL (database ``digest_bench``), Redis (database
5 on REDIS_URL's server), a real Celery worker with beat and gunicorn, all on this machine.
Prints a table and writes bench/results/publish.json.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_PUBLISH_RUNS", "7"))
BUDGET_SECONDS = 3.0
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "digest.settings",
    "DEBUG": "false",
    "SECRET_KEY": "benchmark-secret-key-not-for-production",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/digest_bench"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
    "PUBLISH_DUE_INTERVAL_SECONDS": "5",
    "LOG_LEVEL": "ERROR",
}
PYTHON = sys.executable


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)


def ensure_database():
    name = ENV["DATABASE_URL"].rsplit("/", 1)[1]
    result = subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, text=True)
    if result.returncode and "already exists" not in result.stderr:
        raise SystemExit(result.stderr)


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start_services(port):
    """Start a Celery worker with beat and gunicorn on ``port``, with the production settings; return them."""
    return [
        subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "digest", "worker", "--beat", "--concurrency=2", "--loglevel=WARNING",
             "--schedule", str(ROOT / "var" / "bench-beat")],
            cwd=ROOT, env=ENV,
        ),
        subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "digest.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--log-level", "warning"],
            cwd=ROOT, env=ENV,
        ),
    ]  # fmt: skip


def stop_services(processes):
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(20)


def setup_django():
    """Use this process's Django, on the same database and Redis as the services."""
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def main():
    ensure_database()
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    port = free_port()
    processes = start_services(port)
    try:
        setup_django()
        samples = measure(port)
    finally:
        stop_services(processes)
    report(samples)


def bench_publisher():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    publisher, _ = get_user_model().objects.get_or_create(username="bench-publisher", defaults={"is_staff": True})
    publisher.groups.add(Group.objects.get(name="Publisher"))
    return publisher


def approved_demo_copy(index):
    """Import a copy of the demo issue under a fresh number and slug, approved and ready to publish."""
    from digest.interchange import import_issue
    from digest.management.commands.load_demo import DEMO_ISSUE
    from digest.models import Issue, IssueState

    demo = DEMO_ISSUE.read_text(encoding="utf-8")
    # The demo's Developing Threads have no sources; give them one so the checklist passes.
    demo = demo.replace("tags: mcp\n", "tags: mcp\nsource: Source\n").replace(
        "tags: llm, model safety\n", "tags: llm, model safety\nsource: Source\n"
    )
    number = 90000 + int(time.time() * 1000) % 9000 * 10 + index
    slug = f"bench-{number}"
    text = demo.replace("number: 1\n", f"number: {number}\n").replace("slug: 2026-04-18\n", f"slug: {slug}\n")
    for story_slug in ("offline-generation", "decoupling", "embedded", "agentic", "standardizing", "verifying"):
        text = text.replace(f"slug: {story_slug}", f"slug: {slug}-{story_slug}")
    issue = import_issue(text)
    Issue.objects.filter(pk=issue.pk).update(state=IssueState.APPROVED)
    issue.refresh_from_db()
    return issue


def measure(port):
    from digest import workflow
    from digest.models import PublicationRun, RunState

    publisher = bench_publisher()
    wait_until(lambda: status(f"http://127.0.0.1:{port}/") in (200, 404), 30)
    samples = []
    for index in range(RUNS):
        issue = approved_demo_copy(index)
        url = f"http://127.0.0.1:{port}/issues/{issue.slug}/"
        started = time.perf_counter()
        workflow.publish(issue=issue, by=publisher)
        wait_until(
            lambda i=issue, u=url: (
                status(u) == 200 and PublicationRun.objects.filter(issue=i, state=RunState.COMPLETED).exists()
            ),
            30,
        )
        samples.append(time.perf_counter() - started)
    return samples


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit(f"Timed out after {timeout}s")


def report(samples):
    median = statistics.median(samples)
    row = {
        "figure": "publish latency (request → page 200, run complete), median",
        "value": round(median, 3),
        "unit": "s",
        "budget": f"< {BUDGET_SECONDS} s",
        "verdict": "pass" if median < BUDGET_SECONDS else "FAIL",
        "samples": [round(s, 3) for s in samples],
    }
    print(f"{'figure':60} {'value':>10} {'budget':>10}  verdict")
    print(f"{row['figure']:60} {median:>9.3f}s {row['budget']:>10}  {row['verdict']}")
    print(f"  samples: {row['samples']}")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "publish.json").write_text(json.dumps([row], indent=2) + "\n")


if __name__ == "__main__":
    main()
