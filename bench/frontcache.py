"""The front cache's figures: the issue page through Varnish against nginx serving its bytes.

    .venv/bin/python bench/frontcache.py [--issue SLUG] [--correct SLUG] [--smoke]

Runs the production settings with ``FRONT_CACHE=varnish`` (bench/harness.py: PostgreSQL and
Redis of the benchmark), on this machine, all on loopback: Debian's varnishd with
``deploy/varnish/default.vcl`` before gunicorn (4 workers, as bench/run.py), a Celery worker
(it rebuilds the PDF a correction asks for, as in production), and Debian's nginx serving a
static file of the issue page's bytes, the physical floor. Measures with wrk, in interleaved
rounds with the best round kept (as bench/run.py), requests per second of:

- the static file from nginx;
- the issue page through Varnish;
- the issue page from the Redis page cache (gunicorn, no Varnish);
- the issue page uncached (``?uncached=1``, rendered from the database each time);

and the purge latency: from a correction's commit to Varnish serving the corrected page,
median of 10 corrections (of ``--correct``, another issue than the one measured, as each
correction stays listed at the foot of its page). Prints the figures and writes
bench/results/frontcache.json, with the rows bench/run.py adds to its table.
Goals: through Varnish ≥ 50% of nginx; purge ≤ 1 s.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from harness import (
    RESULTS,
    ROOT,
    free_port,
    gunicorn,
    prepare_database,
    production_environment,
    set_up_django,
    stop,
    wait_until,
    wrk,
)

VARNISH_SHARE_BUDGET = 0.50
PURGE_BUDGET_SECONDS = 1.0
WORKERS = 4  # as bench/run.py
HOST = "localhost"  # in the benchmark's ALLOWED_HOSTS, without a port: as a browser behind Varnish sends it
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
DEPLOYED_BACKEND = '.host = "127.0.0.1";\n    .port = "8000";'


def get(url):
    """Return ``(status, X-Cache, body)`` of a GET with the site's host."""
    request = urllib.request.Request(url, headers={"Host": HOST})  # noqa: S310 - our own loopback servers
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback servers
        return response.status, response.headers.get("X-Cache"), response.read()


@contextmanager
def varnish(directory, backend_port):
    """Run varnishd (-F, its own -n directory) with the deployed VCL pointed at ``backend_port``.

    Yield ``(base_url, purge_url)``: both listeners are on free ports the kernel chose.
    """
    vcl_text = VCL.read_text()
    if vcl_text.count(DEPLOYED_BACKEND) != 1:
        raise SystemExit(f"{VCL}: its backend is not where the benchmark expects it")
    vcl = directory / "bench.vcl"
    vcl.write_text(vcl_text.replace(DEPLOYED_BACKEND, f'.host = "127.0.0.1";\n    .port = "{backend_port}";'))
    workdir = directory / "varnish"
    varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
    with open(ROOT / "var" / "bench-varnishd.log", "w") as log:
        process = subprocess.Popen(
            [varnishd, "-F", "-j", "none", "-n", str(workdir), "-f", str(vcl), "-s", "malloc,256m",
             "-a", "http=127.0.0.1:0", "-a", "purge=127.0.0.1:0", "-T", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            ports = {}

            def listening():
                if process.poll() is not None:
                    raise SystemExit("varnishd exited: see var/bench-varnishd.log")
                answer = subprocess.run(["varnishadm", "-n", str(workdir), "debug.listen_address"],
                                        capture_output=True, text=True, timeout=10)  # fmt: skip
                for line in answer.stdout.split("\n") if answer.returncode == 0 else []:
                    if not line.strip():
                        continue
                    name, _, port = line.split()
                    ports[name] = int(port)
                return {"http", "purge"} <= ports.keys()

            wait_until(listening, 30, "varnishd")
            yield f"http://127.0.0.1:{ports['http']}", f"http://127.0.0.1:{ports['purge']}"
        finally:
            process.terminate()
            process.wait(30)


@contextmanager
def nginx(directory, body):
    """Serve ``body`` as /issue.html with Debian's nginx, on a free port, with a config of its own."""
    root = directory / "www"
    root.mkdir()
    (root / "issue.html").write_bytes(body)
    for path in (root, root / "issue.html"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # nginx's workers run as another user
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(f"""
daemon off;
worker_processes auto;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy; fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi; scgi_temp_path {directory}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        default_type text/html;
    }}
}}
""")
    nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [nginx_binary, "-p", str(directory), "-e", str(directory / "nginx-error.log"), "-c", str(config)]
    url = f"http://127.0.0.1:{port}/issue.html"
    with open(ROOT / "var" / "bench-nginx.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: _answers(url), 30, "nginx")
            yield url
        finally:
            process.terminate()
            process.wait(30)


def _answers(url):
    try:
        return get(url)[0] == 200
    except OSError:
        return False


@contextmanager
def celery_worker(env):
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=WARNING"]
    with open(ROOT / "var" / "bench-frontcache-worker.log", "w") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            stop(worker, "the purging worker")


def throughput(endpoints, *, rounds, duration):
    """Requests per second of each endpoint with wrk, interleaved rounds, best round kept."""
    best = {}
    for _ in range(rounds):
        for name, url in endpoints.items():
            figures = wrk(url, threads=2, connections=8, duration=duration, headers={"Host": HOST})
            if name not in best or figures["requests_per_second"] > best[name]["requests_per_second"]:
                best[name] = figures
    return best


def purge_latencies(issue, varnish_url, *, corrections):
    """Correct the issue ``corrections`` times; return the seconds from each commit to Varnish serving it."""
    from django.db import transaction
    from publish import bench_publisher

    from digest.corrections import record_correction

    publisher = bench_publisher()
    page = f"{varnish_url}{issue.get_absolute_url()}"
    samples = []
    for n in range(corrections):
        wait_until(lambda: get(page)[1] == "hit", 30, "Varnish to keep the issue page")
        marker = f"Corrected at {time.time_ns()} ({n + 1})."
        committed = []
        with transaction.atomic():
            transaction.on_commit(partial(_now_into, committed))  # the first thing after the commit
            issue.week_in_review = f"{issue.week_in_review.split(' Corrected at ')[0]} {marker}"
            issue.save()
            record_correction(issue=issue, by=publisher, note=f"Benchmark correction {n + 1}.")
        corrected = marker.encode()
        wait_until(lambda: corrected in get(page)[2], 10, "Varnish to serve the corrected page")  # noqa: B023
        samples.append(time.perf_counter() - committed[0])
    return samples


def _now_into(moments):
    moments.append(time.perf_counter())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issue", help="slug of the published issue to measure (default: the latest)")
    parser.add_argument("--correct", help="slug of the published issue to correct (default: --issue)")
    parser.add_argument("--smoke", action="store_true", help="one short round, two corrections")
    parser.add_argument("--prepared", action="store_true", help="the database is migrated (by bench/run.py)")
    args = parser.parse_args()
    rounds, duration, corrections = (1, "1s", 2) if args.smoke else (5, "3s", 10)

    backend_port = free_port()
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-frontcache-") as temporary:
        directory = Path(temporary)
        directory.chmod(0o755)  # nginx's workers, another user, read the file under it
        with varnish(directory, backend_port) as (varnish_url, purge_url):
            env = production_environment(FRONT_CACHE="varnish", FRONT_CACHE_PURGE_URLS=purge_url)
            if not args.prepared:
                prepare_database(env)
            set_up_django(env)
            from digest.models import Issue

            issue = Issue.objects.published().get(slug=args.issue) if args.issue else Issue.objects.latest_published()
            if issue is None:
                raise SystemExit("No published issue: run bench/run.py (or manage.py load_demo) first")
            corrected = Issue.objects.published().get(slug=args.correct) if args.correct else issue
            path = issue.get_absolute_url()
            log_name = "bench-frontcache-gunicorn.log"
            with celery_worker(env), gunicorn(env, workers=WORKERS, log_name=log_name, port=backend_port) as site:
                status, _, body = get(f"{site}{path}")
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
                with nginx(directory, body) as static:
                    for url in (f"{varnish_url}{path}", f"{site}{path}"):
                        get(url)  # fills Varnish and the page cache
                    if get(f"{varnish_url}{path}")[1] != "hit":
                        raise SystemExit(f"Varnish does not keep {path}: see deploy/varnish/default.vcl")
                    endpoints = {
                        "static file of the issue page, nginx (floor)": static,
                        "issue page through Varnish": f"{varnish_url}{path}",
                        "issue page, Redis page cache": f"{site}{path}",
                        "issue page, uncached": f"{site}{path}?uncached=1",
                    }
                    best = throughput(endpoints, rounds=rounds, duration=duration)
                samples = purge_latencies(corrected, varnish_url, corrections=corrections)
    return report(best, samples, issue=issue, bytes_=len(body), smoke=args.smoke)


def report(best, samples, *, issue, bytes_, smoke):
    floor = best["static file of the issue page, nginx (floor)"]["requests_per_second"]
    varnish_share = best["issue page through Varnish"]["requests_per_second"] / floor
    median = statistics.median(samples)
    record = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),  # figures on a shared machine move with its load
        "issue": issue.slug,
        "page_bytes": bytes_,
        "throughput": {
            name: {**figures, "share_of_nginx": round(figures["requests_per_second"] / floor, 4)}
            for name, figures in best.items()
        },
        "varnish_share_budget": VARNISH_SHARE_BUDGET,
        "varnish_share_met": varnish_share >= VARNISH_SHARE_BUDGET,
        "purge_seconds_median": round(median, 4),
        "purge_seconds_samples": [round(sample, 4) for sample in samples],
        "purge_budget_seconds": PURGE_BUDGET_SECONDS,
        "purge_met": median <= PURGE_BUDGET_SECONDS,
    }
    varnish_budget = (f"≥ {VARNISH_SHARE_BUDGET:.0%} of nginx", record["varnish_share_met"])
    record["rows"] = [
        _row(f"wrk: {name}", f"{figures['requests_per_second']:.0f} req/s ({figures['share_of_nginx']:.0%} of nginx)",
             *(varnish_budget if "Varnish" in name else ("", None)))
        for name, figures in record["throughput"].items()
    ] + [
        _row(f"purge: correction commit → Varnish serves it, median of {len(samples)}", f"{median:.3f} s",
             f"≤ {PURGE_BUDGET_SECONDS} s", record["purge_met"]),
    ]  # fmt: skip
    for row in record["rows"]:
        print(f"{row['figure']:72} {row['measured']:>30}  {row['budget']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "frontcache.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return 0 if smoke or (record["varnish_share_met"] and record["purge_met"]) else 1


def _row(figure, measured, budget, met):
    """A row of bench/run.py's table."""
    return {"figure": figure, "measured": measured, "budget": budget, "met": met}


if __name__ == "__main__":
    sys.exit(main())
