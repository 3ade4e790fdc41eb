"""Newsletter throughput: a mailing to 10,000 recipients through a local SMTP server, default settings.

A real Celery worker (two processes, Celery's default on this 2-core machine, each
taking one of the mailing's ``NEWSLETTER_PARALLEL_SENDS`` tasks) sends the demo issue to
1,000 and then 10,000 confirmed subscribers of its own PostgreSQL database
(``digest_bench_newsletter``, or ``BENCH_NEWSLETTER_DATABASE_URL``; Redis as ``make bench``, or
``BENCH_NEWSLETTER_REDIS_URL``) through an aiosmtpd
server on loopback in this process. For each size: messages per second and total time from
the mailing's creation to its completion, the peak resident memory (VmHWM) of the largest
worker process, and
the mean message size; once: the render of the issue and the per-recipient cost of a
message (prepared once for SMTP, filled in per recipient; and Django's build, other
backends'). Memory should not grow with the list: the worker holds one batch at a time.

    .venv/bin/python bench/newsletter.py [--smoke]

Writes bench/results/newsletter.json; exits 1 when a figure is over budget (never with --smoke).
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import RESULTS, ROOT, ensure_database, manage, production_environment, set_up_django, stop

SIZES = (1_000, 10_000)
SMOKE_SIZES = (50, 200)
BUDGETS = {"messages_per_second": 200.0, "total_seconds_10000": 50.0, "memory_growth_mb": 30.0}
RESULT_FILE = RESULTS / "newsletter.json"


def environment(smtp_port):
    url = os.environ.get("BENCH_NEWSLETTER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/digest_bench_newsletter")
    return production_environment(
        DATABASE_URL=url,
        # A Redis database of its own when other benchmarks share the machine: their workers
        # would take (and drop) this one's tasks from a shared queue.
        **(
            {"REDIS_URL": os.environ["BENCH_NEWSLETTER_REDIS_URL"]}
            if "BENCH_NEWSLETTER_REDIS_URL" in os.environ
            else {}
        ),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        SITE_URL="https://digest.example.com",
        NEWSLETTER_POSTAL_ADDRESS="Engineering @ Scale, 1 Example Street, Springfield",
    )


def start_worker(env):
    log = (ROOT / "var" / "bench-newsletter-worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in (ROOT / "var" / "bench-newsletter-worker.log").read_text():
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError("The worker did not start (see var/bench-newsletter-worker.log)")
        time.sleep(0.2)
    return worker


def peak_memory_mb(pid):
    """The peak resident memory of the largest of the worker's processes (the parent or a child)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    peaks = []
    for process in [pid, *children]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def published_demo_issue():
    from digest.interchange import import_issue
    from digest.management.commands.load_demo import DEMO_ISSUE
    from digest.models import Issue, IssueState

    existing = Issue.objects.filter(slug="2026-04-18", state=IssueState.PUBLISHED).first()
    if existing is not None:  # loaded by an earlier run
        return existing
    issue = import_issue(DEMO_ISSUE.read_text(encoding="utf-8"), replace=True)
    issue.state, issue.published_at = IssueState.PUBLISHED, datetime.datetime.now(datetime.UTC)
    issue.save()
    return issue


def mail_to(issue, size, env, sink):
    from newsletter import sending
    from newsletter.models import Mailing, MailingState, Subscriber, SubscriberStatus

    Mailing.objects.all().delete()
    Subscriber.objects.all().delete()
    Subscriber.objects.bulk_create(
        (Subscriber(email=f"reader{n:06}@example.com", status=SubscriberStatus.CONFIRMED) for n in range(size)),
        batch_size=5000,
    )
    sink.clear()
    worker = start_worker(env)
    try:
        started = time.perf_counter()
        mailing = sending.start_mailing(issue=issue)
        completed = Mailing.objects.filter(pk=mailing.pk, state=MailingState.COMPLETED)
        deadline = time.monotonic() + 600
        while not completed.exists():  # polled gently: this process shares the machine with the worker
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"The mailing to {size} did not complete (see var/bench-newsletter-worker.log)")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        memory = peak_memory_mb(worker.pid)
    finally:
        stop(worker, "the mailing worker")
    received = sink.count
    if received != size:
        raise RuntimeError(f"The SMTP server received {received} messages for {size} recipients")
    sizes = [len(content) for _, _, content in sink.raw[:200]]
    return {
        "recipients": size,
        "seconds": round(seconds, 2),
        "messages_per_second": round(size / seconds, 1),
        "peak_worker_memory_mb": round(memory, 1),
        "message_bytes": round(sum(sizes) / len(sizes)),
    }


def render_costs(issue, samples=500):
    from newsletter.message import render_issue_message
    from newsletter.mime import PreparedMessage
    from newsletter.sending import build_message

    started = time.perf_counter()
    rendered = render_issue_message(issue, subject=issue.title)
    render_seconds = time.perf_counter() - started

    class Stored:  # a mailing as the worker reads it
        subject, html, text = rendered.subject, rendered.html, rendered.text

    started = time.perf_counter()
    for n in range(samples):
        build_message(Stored, f"reader{n}@example.com", f"token{n:027}").message().as_bytes()
    django_seconds = time.perf_counter() - started
    started = time.perf_counter()
    prepared = PreparedMessage(Stored, build_message, token_length=32)
    for n in range(samples):
        prepared.message_for(f"reader{n}@example.com", f"token{n:027}")
    return {
        "render_once_ms": round(render_seconds * 1000, 1),
        # What a worker does over SMTP (the message prepared once), and Django's build for any backend.
        "per_message_ms": round((time.perf_counter() - started) * 1000 / samples, 3),
        "django_build_ms": round(django_seconds * 1000 / samples, 3),
        "html_bytes": len(rendered.html.encode()),
        "shortened": rendered.shortened,
    }


def claim_cost(issue, batches=20):
    """Milliseconds to claim one batch of a mailing whose every recipient (the last list) is pending."""
    from django.conf import settings

    from newsletter import sending
    from newsletter.models import Mailing

    Mailing.objects.all().delete()
    mailing = Mailing.objects.create(issue=issue, subject="claim", html="", text="")
    pending = sending._add_recipients(mailing)
    started = time.perf_counter()
    for _ in range(batches):
        sending.claim_batch(mailing.pk, settings.NEWSLETTER_BATCH_SIZE)
    milliseconds = (time.perf_counter() - started) * 1000 / batches
    Mailing.objects.all().delete()
    return {"pending": pending, "batch": settings.NEWSLETTER_BATCH_SIZE, "claim_ms": round(milliseconds, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="50 and 200 recipients; fail only on errors")
    args = parser.parse_args()
    sizes = SMOKE_SIZES if args.smoke else SIZES

    sys.path.insert(0, str(ROOT))
    from tests.newsletter.smtp_sink import SmtpSink

    sink = SmtpSink(keep_messages=200).start()
    try:
        env = environment(sink.port)
        ensure_database(env)
        manage(env, "migrate", "--noinput")
        set_up_django(env)
        issue = published_demo_issue()
        runs = [mail_to(issue, size, env, sink) for size in sizes]
        costs = render_costs(issue, samples=50 if args.smoke else 500)
        costs["claim"] = claim_cost(issue)
    finally:
        sink.stop()

    small, large = runs
    growth = large["peak_worker_memory_mb"] - small["peak_worker_memory_mb"]
    checks = {
        "messages_per_second": large["messages_per_second"] >= BUDGETS["messages_per_second"],
        "total_seconds_10000": large["seconds"] < BUDGETS["total_seconds_10000"],
        "memory_growth_mb": growth < BUDGETS["memory_growth_mb"],
    }
    record = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "load_average": os.getloadavg(),
        "budgets": BUDGETS,
        "runs": runs,
        "render": costs,
        "memory_growth_mb": round(growth, 1),
        "checks": checks,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps(record, indent=2) + "\n")
    for run in runs:
        print(
            f"{run['recipients']:>6} recipients: {run['seconds']:6.2f} s, {run['messages_per_second']:6.1f} msg/s, "
            f"worker peak {run['peak_worker_memory_mb']:.0f} MB, {run['message_bytes']:,} bytes a message"
        )
    print(
        f"render once {costs['render_once_ms']} ms, then {costs['per_message_ms']} ms a message "
        f"(Django's build {costs['django_build_ms']} ms); {checks}"
    )
    print(
        f"claiming {costs['claim']['batch']} of {costs['claim']['pending']:,} pending: {costs['claim']['claim_ms']} ms"
    )
    return 0 if args.smoke or all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
