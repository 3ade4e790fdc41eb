"""The API's figures: requests per second of an issue in the API beside its page, and webhook latency.

    .venv/bin/python bench/api.py [--smoke]     # bench/run.py runs it after loading the data

- wrk on ``/api/v1/issues/<slug>/`` from the cache and rendered (``?uncached=1``), interleaved
  with the issue page itself, cached and rendered, in the same run, under gunicorn with the
  production settings (the per-address rate limit on, set high enough for wrk);
- webhook latency: from ``publishing.publish()`` to a receiver on loopback getting the
  signed call, through a real Celery worker with beat (median of 10).

Writes bench/results/api.json with its rows in bench/run.py's format.
"""

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import RESULTS, ROOT, gunicorn, production_environment, row, set_up_django, status, stop, wait_until, wrk

CACHED_SHARE_BUDGET = 0.80  # of the issue page's cached requests per second
WEBHOOK_BUDGET_SECONDS = 3.0
ENV = production_environment(
    API_RATE_LIMIT_PER_MINUTE="100000000",  # on, as in production, but wrk is one address
    # The receiver listens on loopback, which production refuses; plain HTTP on 127.0.0.1.
    OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
    WEBHOOKS_REQUIRE_HTTPS="false",
    WEBHOOK_BEAT_INTERVAL_SECONDS="5",
    PUBLISH_DUE_INTERVAL_SECONDS="5",
)


def largest_issue():
    from django.db.models import Count

    from digest.models import Issue

    return Issue.objects.published().annotate(n=Count("placements")).order_by("-n", "number").first()


def throughput_rows(base_url, slug, *, rounds, duration):
    endpoints = {
        "issue page, cached": f"/issues/{slug}/",
        "API issue, cached": f"/api/v1/issues/{slug}/",
        "issue page, uncached": f"/issues/{slug}/?uncached=1",
        "API issue, uncached": f"/api/v1/issues/{slug}/?uncached=1",
    }
    for path in endpoints.values():
        if status(base_url + path) != 200:
            raise RuntimeError(f"{path} did not answer 200")
    best = {}
    for _ in range(rounds):  # interleaved rounds, best kept: the machine's other work comes and goes
        for name, path in endpoints.items():
            figures = wrk(base_url + path, threads=2, connections=8, duration=duration)
            if name not in best or figures["requests_per_second"] > best[name]["requests_per_second"]:
                best[name] = figures
    page_cached = best["issue page, cached"]["requests_per_second"]
    rows = []
    for name, figures in best.items():
        rps = figures["requests_per_second"]
        if name == "API issue, cached":
            share = rps / page_cached
            rows.append(row(f"wrk: {name}", f"{rps:.0f} req/s ({share:.0%} of the page's)",
                            f"≥ {CACHED_SHARE_BUDGET:.0%} of the cached page", share >= CACHED_SHARE_BUDGET,
                            **figures))  # fmt: skip
        else:
            rows.append(row(f"wrk: {name}", f"{rps:.0f} req/s", "", None, **figures))
    return rows


class Receiver:
    """A webhook receiver on loopback: notes when each issue's call arrived."""

    def __init__(self):
        arrivals = self.arrivals = {}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrivals.setdefault(json.loads(body)["data"].get("issue", {}).get("slug"), time.perf_counter())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def webhook_latency_row(runs):
    from publish import approved_demo_copy, bench_publisher

    from digest import publishing
    from webhooks.delivery import new_secret
    from webhooks.models import Endpoint

    receiver = Receiver()
    endpoint = Endpoint.objects.create(url=receiver.url, events=["issue.published"], secret=new_secret())
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--concurrency=2", "--loglevel=WARNING",
         "--schedule", str(ROOT / "var" / "bench-api-beat")],
        cwd=ROOT, env=ENV,
    )  # fmt: skip
    samples = []
    try:
        publisher = bench_publisher()
        for index in range(runs):
            issue = approved_demo_copy(100 + index)
            started = time.perf_counter()
            publishing.publish(issue=issue, by=publisher)
            wait_until(lambda slug=issue.slug: slug in receiver.arrivals, 60, "the webhook to arrive")
            samples.append(receiver.arrivals[issue.slug] - started)
    finally:
        stop(worker, "the webhook worker")
        endpoint.delete()  # later benchmarks' publications call nobody
        receiver.stop()
    median = statistics.median(samples)
    return row("webhook latency, publish → receiver, median", f"{median:.3f} s", f"< {WEBHOOK_BUDGET_SECONDS} s",
               median < WEBHOOK_BUDGET_SECONDS, samples=[round(s, 3) for s in samples])  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one short round, one publication")
    args = parser.parse_args()
    set_up_django(ENV)
    slug = largest_issue().slug
    with gunicorn(ENV, workers=4, log_name="bench-api-gunicorn.log") as base_url:
        rows = throughput_rows(base_url, slug, rounds=1 if args.smoke else 3, duration="1s" if args.smoke else "4s")
    rows.append(webhook_latency_row(1 if args.smoke else 10))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    for item in rows:
        print(f"{item['figure']:50} {item['measured']:>32} {item['budget']}")
    return 0 if all(item["met"] is not False for item in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
