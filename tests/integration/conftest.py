"""Real services for the integration tests: Redis servers and Celery workers as subprocesses.

The worker works on the test database itself, so these tests commit their data
(``transaction=True``) and need PostgreSQL.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

CACHE_KEY_PREFIX = "integration"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message}")


class RedisServer:
    """A redis-server of the test's own, on its own port, that the test may stop and start."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process = None

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.directory, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        wait_for(lambda: self._ping(client), 10, f"redis-server on port {self.port}")

    @staticmethod
    def _ping(client):
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Worker:
    """A real Celery worker (solo pool, with beat) in a subprocess."""

    def __init__(self, env, directory, name):
        self.env, self.log = env, directory / f"{name}.log"
        self.command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--pool=solo",
            "--schedule", str(directory / f"{name}-beat"), "--hostname", f"{name}@%h", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        self.process = None

    def start(self):
        # A session of its own, so that kill() takes the embedded beat (a child process) too.
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=settings.BASE_DIR,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: "ready." in self.output() or self.process.poll() is not None, 30, "the worker to start")
        if self.process.poll() is not None:
            raise AssertionError(f"The worker exited:\n{self.output()}")

    def output(self):
        return self.log.read_text() if self.log.exists() else ""

    def kill(self):
        """Kill the worker and its children at once, as a crash of the machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def services(postgresql, transactional_db, tmp_path, settings):
    """Start brokers and workers against the test database; stop them all afterwards."""
    if not Path("/usr/bin/redis-server").exists() and not any(
        Path(p, "redis-server").exists() for p in os.environ.get("PATH", "").split(":")
    ):
        pytest.fail("redis-server is needed for the integration tests (Debian package redis-server).")
    started = []
    original = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager", "broker_transport_options")}

    class Services:
        def redis(self):
            server = RedisServer(tmp_path)
            server.start()
            started.append(server)
            return server

        def use(self, *, broker, cache):
            """Point this test process and the workers at these Redis servers."""
            self.broker, self.cache = broker, cache
            # The same keys as the workers' (their settings come from the environment below), so
            # that a purge made by a worker drops the pages this process cached.
            settings.CACHES = {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": cache.url(1),
                    "KEY_PREFIX": CACHE_KEY_PREFIX,
                }
            }
            celery_app.conf.broker_url = broker.url(0)
            celery_app.conf.task_always_eager = False
            celery_app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            celery_app._after_fork()  # drop connection pools made for another broker

        def mailing_worker(self, sink, **env):
            """A worker with its beat that mails through ``sink`` (tests/smtp_sink.py) over real SMTP."""
            return self.worker(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(sink.port),
                **env,
            )

        def worker(self, **env):
            db = connection.settings_dict
            environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DEBUG": "false",
                "SECRET_KEY": "integration-test-secret",
                "ALLOWED_HOSTS": "testserver,localhost",
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                "REDIS_URL": self.broker.url(0),
                "CACHE_REDIS_URL": self.cache.url(1),
                "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
                "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "PUBLISH_DUE_INTERVAL_SECONDS": "1",
                "PURGE_RETRY_INTERVAL_SECONDS": "1",
                "PUBLISHING_RETRY_BACKOFF_SECONDS": "0.3",
                "PUBLISHING_MAX_ATTEMPTS": "3",
                "CONN_MAX_AGE": "0",
                **env,
            }
            worker = Worker(environment, tmp_path, f"worker{len(started)}")
            started.append(worker)
            worker.start()
            return worker

    yield Services()
    for service in reversed(started):
        service.stop()
    celery_app.conf.update(original)
    celery_app._after_fork()
