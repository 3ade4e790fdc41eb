"""Publish latency: from the publish request to the public page answering 200, run complete.

Runs the production settings against PostgreSQL and Redis (bench/harness.py), a real Celery
worker with beat and gunicorn, all on this machine. Prints a table and writes
bench/results/publish.json. bench/load.py uses the same stack.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

from harness import (
    RESULTS,
    ROOT,
    gunicorn,
    manage,
    prepare_database,
    production_environment,
    set_up_django,
    status,
    stop,
    wait_until,
)

RUNS = int(os.environ.get("BENCH_PUBLISH_RUNS", "7"))
BUDGET_SECONDS = 3.0
ENV = production_environment(PUBLISH_DUE_INTERVAL_SECONDS="5")


@contextmanager
def publishing_stack(*, load_demo=False):
    """Migrate, then run a Celery worker with beat and gunicorn; yield the site's base URL.

    This process's Django is set up on the same database and Redis, to publish through
    ``digest.publishing`` as the admin would.
    """
    prepare_database(ENV)
    if load_demo:
        manage(ENV, "load_demo", "--no-admin")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--concurrency=2", "--loglevel=WARNING",
         "--schedule", str(ROOT / "var" / "bench-beat")],
        cwd=ROOT, env=ENV,
    )  # fmt: skip
    try:
        with gunicorn(ENV, workers=2, log_name="bench-publish-gunicorn.log") as base_url:
            set_up_django(ENV)
            yield base_url
    finally:
        stop(worker, "the publishing worker")


def bench_publisher():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    publisher, _ = get_user_model().objects.get_or_create(username="bench-publisher", defaults={"is_staff": True})
    publisher.groups.add(Group.objects.get(name="Publisher"))
    return publisher


def approved_demo_copy(index):
    """Import a copy of the demo issue under a fresh number and slug, approved and ready to publish."""
    from digest import workflow
    from digest.interchange import import_issue
    from digest.management.commands.load_demo import DEMO_ISSUE
    from digest.models import IssueState

    demo = DEMO_ISSUE.read_text(encoding="utf-8")
    # The demo's Developing Threads have no sources; give them one so the checklist passes.
    demo = demo.replace("tags: mcp\n", "tags: mcp\nsource: Source\n").replace(
        "tags: llm, model safety\n", "tags: llm, model safety\nsource: Source\n"
    )
    # Below 100,000, where generate_bench_data's issues start.
    number = 10_000 + int(time.time() * 1000) % 8_000 * 10 + index
    slug = f"publish-bench-{number}"
    text = demo.replace("number: 1\n", f"number: {number}\n").replace("slug: 2026-04-18\n", f"slug: {slug}\n")
    for story_slug in ("offline-generation", "decoupling", "embedded", "agentic", "standardizing", "verifying"):
        text = text.replace(f"slug: {story_slug}", f"slug: {slug}-{story_slug}")
    issue = import_issue(text)
    # Through the workflow, as a newsroom would: approval records what goes out (its fingerprint).
    publisher = bench_publisher()
    workflow.send_to_review(issue=issue, by=publisher)
    workflow.approve(issue=issue, by=publisher)
    issue.refresh_from_db()
    assert issue.state == IssueState.APPROVED
    return issue


def measure(base_url):
    from digest import publishing
    from digest.models import PublicationRun, RunState

    publisher = bench_publisher()
    samples = []
    for index in range(RUNS):
        issue = approved_demo_copy(index)
        url = f"{base_url}/issues/{issue.slug}/"
        started = time.perf_counter()
        publishing.publish(issue=issue, by=publisher)
        wait_until(
            lambda i=issue, u=url: (
                status(u) == 200 and PublicationRun.objects.filter(issue=i, state=RunState.COMPLETED).exists()
            ),
            30,
            "the issue to go live",
        )
        samples.append(time.perf_counter() - started)
    return samples


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
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "publish.json").write_text(json.dumps([row], indent=2) + "\n")


def main():
    with publishing_stack() as base_url:
        samples = measure(base_url)
    report(samples)


if __name__ == "__main__":
    main()
