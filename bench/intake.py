"""Intake figures: one full fetch round of 500 feeds, the worker's memory, the inbox at 50,000 candidates.

    .venv/bin/python bench/intake.py [--smoke]

It runs on a database and a Redis database of its own (``BENCH_INTAKE_DATABASE_URL``,
default ``digest_bench_intake``; ``BENCH_INTAKE_REDIS_URL``, default Redis database 8): its
worker must take only its own tasks, and its data must not touch the site's figures.

A feed server on loopback (the tests' own, tests/intake/feed_server.py) serves 500 RSS feeds
of 20 posts each; every fifth post's link redirects, as feed-proxy links do. A real Celery
worker with beat, at its default concurrency, runs with the production settings against the
benchmark's PostgreSQL and Redis (bench/harness.py), loopback allowed to the outbound guard.
All feeds are made due at once; the round's time runs until every feed has been fetched,
redirects of new posts included. The worker's memory is its processes' peak resident size
(VmHWM). Then the inbox is filled to 50,000 candidates and its page timed under gunicorn
(median of sequential requests, as bench/run.py times pages), and its queries counted at
the round's size and at 50,000: they must be equal.

Writes bench/results/intake.json as rows of bench/run.py's table.
"""

import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import (
    RESULTS,
    ROOT,
    gunicorn,
    prepare_database,
    production_environment,
    row,
    sequential_median_ms,
    set_up_django,
    status,
    stop,
)

ROUND_BUDGET_SECONDS = 60
INBOX_BUDGET_MS = 100
MEMORY_BUDGET_MB = 300  # per worker process: a feed is capped at 5 MB and read once
FULL = {"feeds": 500, "entries": 20, "candidates": 50_000, "requests": 30}
SMOKE = {"feeds": 20, "entries": 5, "candidates": 500, "requests": 3}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, one round; fail only on errors")
    args = parser.parse_args()
    size = SMOKE if args.smoke else FULL
    # A stopped benchmark (Ctrl-C, a timeout's TERM) still stops its worker: the finally blocks run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = production_environment(
        DATABASE_URL=os.environ.get(
            "BENCH_INTAKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/digest_bench_intake"
        ),
        REDIS_URL=os.environ.get("BENCH_INTAKE_REDIS_URL", "redis://127.0.0.1:6379/8"),
        OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
        INTAKE_DUE_INTERVAL_SECONDS="1",
    )
    prepare_database(env)
    set_up_django(env)
    from tests.intake.feed_server import FeedServer

    server = FeedServer().start()
    try:
        feeds = serve_feeds(server, size)
        round_seconds, memory = fetch_round(env, feeds, size)
    finally:
        server.stop()
    small_queries, _ = inbox_queries()
    fill_inbox(size["candidates"])
    large_queries, inbox_cpu_ms = inbox_queries(cpu_samples=size["requests"])
    with gunicorn(env, workers=2, log_name="bench-intake-gunicorn.log") as base_url:
        from run import admin_session_cookie

        inbox, cookie = f"{base_url}/admin/intake/candidate/", {"Cookie": admin_session_cookie()}
        for _ in range(4):  # each gunicorn worker's first page loads the admin's templates
            status(inbox, cookie)
        inbox_ms = sequential_median_ms(inbox, requests=size["requests"], headers=cookie)
    rows = [
        row(f"intake: fetch round, {size['feeds']} feeds × {size['entries']} posts, default concurrency",
            f"{round_seconds:.1f} s", f"< {ROUND_BUDGET_SECONDS} s", round_seconds < ROUND_BUDGET_SECONDS),
        row("intake: fetch round, worker CPU time", f"{memory['cpu_seconds']:.1f} s "
            f"({memory['cpu_seconds'] * 1000 / size['feeds']:.0f} ms a feed)", "", None),
        row("intake: worker peak memory (largest process)", f"{memory['largest_mb']:.0f} MB "
            f"({memory['total_mb']:.0f} MB in {memory['processes']})",
            f"< {MEMORY_BUDGET_MB} MB", memory["largest_mb"] < MEMORY_BUDGET_MB),
        row(f"intake: inbox page at {size['candidates']:,} candidates, uncached", f"{inbox_ms:.1f} ms",
            f"< {INBOX_BUDGET_MS} ms", inbox_ms < INBOX_BUDGET_MS),
        row("intake: inbox page, CPU time to render it, median", f"{inbox_cpu_ms:.1f} ms", "", None),
        row(f"queries: inbox page, {size['feeds'] * size['entries']:,} = {size['candidates']:,} candidates",
            f"{small_queries} = {large_queries}", "equal",
            small_queries == large_queries),
    ]  # fmt: skip
    load = os.getloadavg()
    print(f"Intake figures, {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for line in rows:
        verdict = {True: "pass", False: "OVER", None: ""}[line["met"]]
        print(f"{line['figure']:75} {line['measured']:>40} {line['budget']:>10}  {verdict}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "intake.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    return 0 if args.smoke or all(line["met"] is not False for line in rows) else 1


def serve_feeds(server, size):
    """Route every feed on the server and create its Feed rows (paused until the round starts)."""
    from companies.models import Company
    from intake.models import Candidate, Feed
    from tests.intake.feed_server import rss

    Candidate.objects.all().delete()
    Feed.objects.all().delete()
    base = server.url("")
    moment = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)
    server.routes["/r/*"] = lambda handler: (301, {"Location": "/posts/" + handler.path.rsplit("/", 1)[1]}, b"")
    server.routes["/posts/*"] = (200, {"Content-Type": "text/html"}, b"<title>post</title>")
    companies, feeds = [], []
    for number in range(size["feeds"]):
        company, _ = Company.objects.get_or_create(slug=f"intake-bench-{number}", defaults={"name": f"Blog {number}"})
        entries = [
            {
                "title": f"Post {n} of blog {number}: what we learned running things at scale",
                "link": f"{base}/{'r' if n % 5 == 0 else 'posts'}/{number}-{n}",
                "summary": "A long summary of the post, as feeds carry. " * 10,
                "author": f"Engineer {n}",
                "published": moment + datetime.timedelta(minutes=number * size["entries"] + n),
            }
            for n in range(size["entries"])
        ]
        server.routes[f"/feeds/{number}.xml"] = (200, {"Content-Type": "application/rss+xml"}, rss(entries))
        companies.append(company)
        feeds.append(Feed(company=company, url=server.url(f"/feeds/{number}.xml"), paused=True))
    return Feed.objects.bulk_create(feeds)


def fetch_round(env, feeds, size):
    """Start a worker with beat, make every feed due, and time until all were fetched."""
    from django.utils import timezone

    from intake.models import Candidate, Feed

    log = open(ROOT / "var" / "bench-intake-worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--loglevel=WARNING",
         "--schedule", str(ROOT / "var" / "bench-intake-beat")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(8)  # the worker's processes are up and the beat ticks
        ids = [feed.pk for feed in feeds]
        cpu_before = worker_cpu_seconds(worker.pid)
        started = time.monotonic()
        Feed.objects.filter(pk__in=ids).update(paused=False, next_fetch_at=timezone.now())
        deadline = started + 600
        while Feed.objects.filter(pk__in=ids, last_fetched_at__isnull=True).exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("The fetch round did not finish; see var/bench-intake-worker.log")
            time.sleep(0.2)
        seconds = time.monotonic() - started
        memory = peak_memory(worker.pid)
        memory["cpu_seconds"] = worker_cpu_seconds(worker.pid) - cpu_before
    finally:
        stop(worker, "the intake worker")
        log.close()
    failed = Feed.objects.filter(pk__in=ids, failures__gt=0).count()
    expected = size["feeds"] * size["entries"]
    found = Candidate.objects.count()
    if failed or found != expected:
        raise SystemExit(f"The round fetched {found} of {expected} posts, {failed} feeds failed")
    return seconds, memory


def worker_cpu_seconds(pid):
    """CPU time of the worker, its live children and the children it has reaped (recycled pool processes)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def fields(each):
        return Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()

    own = fields(pid)  # after the command name: state is field 3, utime 14 … cstime 17 (1-based)
    total = sum(int(value) for value in own[11:15])
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += sum(int(value) for value in fields(child)[11:13])
    return total / ticks


def peak_memory(pid):
    """The peak resident size (VmHWM) of the worker and each of its child processes."""
    pids = [pid, *(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    peaks = []
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return {"largest_mb": max(peaks), "total_mb": sum(peaks), "processes": len(peaks)}


def fill_inbox(total):
    """Add candidates until the inbox holds ``total``, spread over the round's companies and feeds."""
    from django.utils import timezone

    from intake.models import Candidate, CandidateState, Feed

    feeds = list(Feed.objects.select_related("company"))
    now = timezone.now()
    states = [CandidateState.NEW] * 6 + [CandidateState.KEPT, CandidateState.DISMISSED, CandidateState.USED]
    batch = []
    for number in range(Candidate.objects.count(), total):
        feed = feeds[number % len(feeds)]
        moment = now - datetime.timedelta(minutes=number)
        batch.append(
            Candidate(
                link=f"https://blog{number % 997}.example.com/posts/{number}",
                listed_link=f"https://blog{number % 997}.example.com/posts/{number}",
                title=f"Filler post {number}: scaling the thing",
                summary="What the post says. " * 20,
                published_at=moment,
                found_at=now,
                dated_at=moment,
                feed=feed,
                company=feed.company,
                state=states[number % len(states)],
            )
        )
        if len(batch) == 5000:
            Candidate.objects.bulk_create(batch)
            batch = []
    Candidate.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE intake_candidate")


def inbox_queries(cpu_samples=0):
    """The inbox's query count, and the median CPU time of rendering it in this process (ms), which the
    machine's other load does not inflate as it does a wall-clock time."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = get_user_model().objects.filter(username="bench-admin").first() or get_user_model().objects.create_superuser(
        "bench-admin", "bench@example.com", None
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/intake/candidate/").status_code == 200
    count = len(captured)  # now: the next requests reset the connection's query log
    cpu = []
    for _ in range(cpu_samples):
        started = time.process_time()
        client.get("/admin/intake/candidate/")
        cpu.append((time.process_time() - started) * 1000)
    return count, statistics.median(cpu) if cpu else None


if __name__ == "__main__":
    sys.exit(main())
