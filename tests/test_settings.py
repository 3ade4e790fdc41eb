"""Production settings refuse to start without their secrets."""

import os
import runpy
import subprocess
import sys

import pytest
from django.conf import settings

CHECK = [sys.executable, "-c", "import django; django.setup(); print('started')"]


def run_with(**env):
    base = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    base |= {"DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(CHECK, env=base, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "SECRET_KEY and ALLOWED_HOSTS must be set"),
        ({"SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS must be set"),
        ({"ALLOWED_HOSTS": "example.com"}, "SECRET_KEY must be set"),
        ({"DEBUG": "false", "SECRET_KEY": "", "ALLOWED_HOSTS": "example.com"}, "SECRET_KEY must be set"),
    ],
)
def test_production_refuses_to_start_without_secrets(env, missing):
    result = run_with(**env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "started" not in result.stdout


def test_production_starts_with_its_secrets():
    result = run_with(SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("front_cache", "refusal"),
    [
        ({"FRONT_CACHE": "varnish"}, "FRONT_CACHE=varnish needs FRONT_CACHE_PURGE_URLS"),
        ({"FRONT_CACHE": "fastly"}, "FRONT_CACHE must be 'none' or 'varnish'"),
    ],
)
def test_a_front_cache_the_site_cannot_purge_stops_the_start_up(front_cache, refusal):
    result = run_with(SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com", **front_cache)
    assert result.returncode != 0
    assert refusal in result.stderr


def test_debug_starts_with_nothing_set():
    result = run_with(DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_quick_start_on_sqlite_runs_its_checks_without_warnings(tmp_path):
    # `make dev` migrates, which runs the database checks too: they print every warning.
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ALLOWED_HOSTS")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # the quick start's database
    command = [sys.executable, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False)
    assert result.returncode == 0, result.stderr
    assert "W040" not in result.stderr + result.stdout


def test_every_timeout_fits_inside_the_one_that_stops_it():
    gunicorn = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    # A web request may wait on the broker (a publisher's click) but never renders a PDF
    # (the preview is a worker's job: tests/digest/test_pdf_preview.py).
    broker_wait = settings.CELERY_BROKER_CONNECTION_TIMEOUT * (
        1 + settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"]
    )
    assert "timeout" in gunicorn, "gunicorn.conf.py must set the worker timeout, not rely on a default"
    assert broker_wait < gunicorn["timeout"] <= 30
    # A render is stopped by its own timeout before Celery's soft, then hard, time limit.
    assert settings.PDF_RENDER_TIMEOUT < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_the_deploy_commands_of_earlier_releases_keep_working():
    """``DJANGO_SETTINGS_MODULE=digest.settings``, ``gunicorn digest.wsgi`` and ``celery -A digest``."""
    program = (
        "import django; django.setup(); from django.conf import settings; "
        "from celery.app.utils import find_app; import digest.wsgi; "
        "print(settings.ROOT_URLCONF, type(digest.wsgi.application).__name__, find_app('digest').main, "
        "'digest.tasks.advance_publication' in find_app('digest').tasks)"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ALLOWED_HOSTS")}
    env |= {"DJANGO_SETTINGS_MODULE": "digest.settings", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "example.com"}
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.urls", "WSGIHandler", "digest", "True"]


def test_the_quick_start_database_migrates_from_scratch(tmp_path):
    """Every migration runs on SQLite too (``make dev``), PostgreSQL-only indexes and all."""
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ALLOWED_HOSTS")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    command = [sys.executable, "manage.py", "migrate", "--noinput"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False)
    assert result.returncode == 0, result.stderr
    listed = subprocess.run(
        [sys.executable, "manage.py", "showmigrations", "--plan"],
        env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False,
    )  # fmt: skip
    assert "[ ]" not in listed.stdout and "[X]  digest.0013_share_links" in listed.stdout


def test_the_deploy_check_is_clean_and_passkeys_belong_to_the_site():
    test_only = (
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # set in this process by the browser tests' fixture
    )
    env = {key: value for key, value in os.environ.items() if key not in test_only}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-secret-key-for-the-deploy-check-0123456789abcdef",
        "ALLOWED_HOSTS": "digest.example.com",
        # What a production newsletter must say for itself (the newsletter's deploy checks).
        "NEWSLETTER_FROM_EMAIL": "digest@digest.example.com",
        "NEWSLETTER_POSTAL_ADDRESS": "Engineering @ Scale, 1 Example Street, Springfield",
        "NEWSLETTER_HASH_KEY": "test-only-erasure-key-0123456789abcdef",
    }
    check = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(check, env=env, capture_output=True, text=True, cwd=settings.BASE_DIR, check=False)
    assert result.returncode == 0, result.stderr
    show = "import django; django.setup(); from django.conf import settings as s; print(s.OTP_WEBAUTHN_RP_ID, s.OTP_WEBAUTHN_ALLOWED_ORIGINS, s.ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR)"  # noqa: E501
    shown = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
    assert shown.stdout.strip() == "digest.example.com ['https://digest.example.com'] ['Publisher', 'superuser']"


def test_a_page_cost_that_is_not_a_number_stops_the_start_up():
    result = run_with(SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com", POSTGRES_RANDOM_PAGE_COST="fast")
    assert result.returncode != 0
    assert "POSTGRES_RANDOM_PAGE_COST must be a number" in result.stderr


def test_postgresql_connections_price_random_reads_as_on_ssd(postgresql):
    """Set on each new connection, not as a start-up option (connection poolers refuse those)."""
    from django.db import connection

    assert "options" not in connection.settings_dict["OPTIONS"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
