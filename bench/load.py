"""Readers under load while a publisher publishes an issue and corrects it: no error, no stale page.

    .venv/bin/python bench/load.py        # or: make load

The production stack of bench/publish.py (gunicorn, a Celery worker with beat, PostgreSQL,
Redis, all on 127.0.0.1). wrk keeps 200 connections busy on the demo issue page, the home
page, the archive and a search for a bounded time, while this process publishes a new issue
through ``digest.publishing.publish`` (the worker runs the publication) and then edits one of
its stories with a correction (``digest.corrections.record_correction``). After each event,
once it has committed (publication: its run completed; correction: the transaction), the
pages are fetched once and must already show the change: the purge left no stale copy.
Fails on any error (a non-2xx/3xx answer, a socket error or timeout) or stale page; prints
req/s and latency percentiles and writes bench/results/load.json.
"""

import datetime
import html
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from harness import RESULTS, status, wait_until
from publish import approved_demo_copy, bench_publisher, publishing_stack

DURATION_SECONDS = 40  # under the 60 s bound, with room to start and stop
CONNECTIONS, THREADS = 200, 2
PATHS = ["/issues/2026-04-18/", "/", "/issues/", "/search/?q=durable+execution"]
# wrk asks for the paths in turn, and prints its figures as one JSON line at the end.
WRK_SCRIPT = """
local paths = {PATHS}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d,'
    .. ' "status": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
""".replace("PATHS", ", ".join(f'"{path}"' for path in PATHS))


def page(url):
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own loopback server
        return response.read().decode()


def run_wrk(base_url, result):
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        output = subprocess.run(
            ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION_SECONDS}s", "--timeout", "10s",
             "-s", script.name, base_url],
            capture_output=True, text=True, check=True, timeout=DURATION_SECONDS + 30,
        ).stdout  # fmt: skip
    result.update(json.loads(output.split("RESULT ", 1)[1]))


def publish_and_correct(base_url):
    """Publish a new issue, then correct one of its stories; return what each reader fetch found."""
    from django.db import transaction

    from digest import corrections, publishing
    from digest.models import Issue, PublicationRun, RunState

    publisher = bench_publisher()
    issue = approved_demo_copy(0)
    # The newest week of all, so the home page must switch to it (earlier runs left issues behind).
    latest = Issue.objects.order_by("-week_end").first().week_end
    Issue.objects.filter(pk=issue.pk).update(
        week_start=latest + datetime.timedelta(days=1), week_end=latest + datetime.timedelta(days=7)
    )
    issue.refresh_from_db()
    checks = []

    time.sleep(8)
    started = time.perf_counter()
    publishing.publish(issue=issue, by=publisher)
    wait_until(lambda: PublicationRun.objects.filter(issue=issue, state=RunState.COMPLETED).exists(), 30)
    published_after = time.perf_counter() - started
    issue.refresh_from_db()
    issue_url = f"{base_url}/issues/{issue.slug}/"
    checks += [
        ("new issue page answers 200", status(issue_url) == 200),
        ("home page shows the new issue", f"/issues/{issue.slug}/" in page(base_url + "/")),
        ("archive lists the new issue", f"/issues/{issue.slug}/" in page(base_url + "/issues/")),
        ("feed lists the new issue", f"/issues/{issue.slug}/" in page(base_url + "/feed/")),
    ]

    time.sleep(8)
    story = issue.placements.order_by("section", "position").first().story
    corrected_title = f"{story.title} (corrected {int(time.time())})"
    note = f"Corrected the title of {story.title!r}."
    with transaction.atomic():
        story.title = corrected_title
        story.save()
        corrections.record_correction(issue=issue, by=publisher, note=note)
    corrected = page(issue_url)
    checks += [
        ("issue page shows the corrected title", html.escape(corrected_title) in corrected),
        ("issue page lists the correction", html.escape(note) in corrected),
        ("home page shows the corrected title", html.escape(corrected_title) in page(base_url + "/")),
    ]
    return {"published_after_seconds": round(published_after, 2), "checks": checks}


def main():
    with publishing_stack(load_demo=True) as base_url:
        from django.core.cache import cache

        cache.clear()
        wait_until(lambda: status(base_url + "/healthz") == 200, 30, "the site")
        for path in PATHS:  # warm the page cache, as a live site's would be
            assert status(base_url + path) == 200, path
        load = {}
        readers = threading.Thread(target=run_wrk, args=(base_url, load))
        readers.start()
        events = publish_and_correct(base_url)
        readers.join()
    return report(load, events)


def report(load, events):
    errors = {kind: load[kind] for kind in ("connect", "read", "write", "timeout", "status")}
    seconds = load["duration_us"] / 1e6
    print(f"\n{CONNECTIONS} readers (wrk -t{THREADS} -c{CONNECTIONS}, {seconds:.0f} s) on {', '.join(PATHS)}")
    print(f"requests: {load['requests']}  ({load['requests'] / seconds:.0f} req/s)")
    percentiles = ("p50", "p90", "p99", "max")
    print("latency: " + "  ".join(f"{name} {load[f'{name}_us'] / 1000:.1f} ms" for name in percentiles))
    print(f"errors: {errors}")
    print(f"publication run completed {events['published_after_seconds']} s after publish()")
    for name, passed in events["checks"]:
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(
        json.dumps({"connections": CONNECTIONS, "paths": PATHS, "wrk": load, **events}, indent=2) + "\n"
    )
    ok = not any(errors.values()) and all(passed for _, passed in events["checks"])
    print("\n" + ("PASS: no error, no stale page" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
