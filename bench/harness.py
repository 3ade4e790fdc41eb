"""What every benchmark script shares: production settings, the server, the load generator.

One place for the environment the site runs under (production settings against the
benchmark's PostgreSQL database and Redis), for starting gunicorn and waiting for it, and
for the two ways a figure is taken: wrk for requests per second under load, and sequential
requests for a median latency without queueing.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/digest_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"


def production_environment(**overrides):
    """Return the environment of the site in production, on the benchmark's database and Redis."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-secret-key-not-for-production-" + "x" * 20,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The load generator speaks plain HTTP to 127.0.0.1; TLS is a proxy's job in production.
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "LOG_LEVEL": "ERROR",
        # The admin pages are measured as a signed-in superuser's: the second factor is a cost of
        # signing in (accounts/), not of the pages, so the bench's session is not asked for one.
        "SECOND_FACTOR_REQUIRED_FOR": "",
        **overrides,
    }


def ensure_database(env):
    """Create the benchmark's PostgreSQL database unless it exists."""
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    result = subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, text=True)
    if result.returncode and "already exists" not in result.stderr:
        raise SystemExit(result.stderr)


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_database(env):
    """Create the benchmark's database unless it exists, migrate it and collect the static files."""
    ensure_database(env)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")


def set_up_django(env):
    """Set up Django in this process under the site's environment, to read and write its data directly."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))  # before bench/: the project's apps, not the scripts of the same name
    import django

    django.setup()


def row(figure, measured, budget, met, **details):
    """One figure of the benchmark's table (bench/run.py), against its budget: ``met`` is None without one."""
    return {"figure": figure, "measured": measured, "budget": budget, "met": met, **details}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own loopback server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback server
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until(condition, timeout, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise SystemExit(f"Timed out after {timeout}s waiting for {what}")


def stop(process, name, *, timeout=30):
    """Stop a worker or server the benchmark started, once its figures are taken.

    A warm shutdown waits for the tasks running; one that outlasts ``timeout`` (a bench run
    failed once on an intake worker still busy 30 s after its round) is reported and killed,
    rather than failing a run whose figures are in.
    """
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"{name} (pid {process.pid}) was still stopping after {timeout} s: killed.", file=sys.stderr)
        process.kill()
        process.wait()


@contextmanager
def gunicorn(env, *, workers, log_name="bench-gunicorn.log", port=None):
    """Run the site under gunicorn, as the README runs it in production; yield its base URL.

    On ``port`` if given (a front cache started first points at it), else on a free one.
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    (ROOT / "var").mkdir(exist_ok=True)
    with open(ROOT / "var" / log_name, "w") as log:
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: status(base_url + "/healthz") == 200, 60, f"gunicorn on {base_url}")
            yield base_url
        finally:
            stop(server, "gunicorn")


def sequential_median_ms(url, *, requests, headers=None):
    """Return the median time of ``requests`` GETs sent one after another: a render's own time."""
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = status(url, headers)
        samples.append((time.perf_counter() - started) * 1000)
        if answer != 200:
            raise RuntimeError(f"{url} answered {answer}")
    return statistics.median(samples)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _to_ms(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def wrk(url, *, threads, connections, duration, headers=None):
    """Load ``url`` with wrk; return requests per second, median and p99 latency."""
    header_options = [option for name, value in (headers or {}).items() for option in ("-H", f"{name}: {value}")]
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", *header_options, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url} answered {errors.group(1)} errors under load:\n{output}")
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "median_ms": _to_ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": _to_ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
    }
