"""Settings for the digest CMS, driven by environment variables.

The defaults make the quick start work on one machine (SQLite, Celery's filesystem
transport, a file cache in var/). With DEBUG off, missing secrets stop the start-up.
"""

import datetime
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} must be set when DEBUG is off. "
            "Set them in the environment (or .env), or set DEBUG=true for local development."
        )
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "insecure-local-development-key"  # noqa: S105 - only ever used with DEBUG on

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    # Django's admin on the newsroom's site (newsroom.sites): its home page is the newsroom's.
    "newsroom.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "stories.apps.TagsConfig",  # taggit, named "Tags" in the admin
    "simple_history",
    "companies",
    "stories",
    "digest",
    "reader",
    "newsroom",
    "accounts",
    "newsletter",
    "ninja",  # only for the Swagger UI files it ships (static/ninja/), served by the API's docs page
    "api",
    "webhooks",
    "intake",
]

MIDDLEWARE = [
    # A forged Host header is a 400 for every URL, static files and warm pages included.
    "config.hosts.AllowedHostMiddleware",
    # The API and JSON Feeds: a rate limit per address (warm responses count too) and CORS.
    "api.machine_access.MachineAccessMiddleware",
    # Serves warm reader pages, with the headers they were stored with; the middleware
    # below it runs for everything else (and adds those headers to a page being stored).
    "reader.page_cache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Staff who must have a second factor reach only enrolment until they have one; each
    # staff session is listed on its user's Security page (accounts/).
    "accounts.middleware.StaffSessionMiddleware",
    # An admin form posted after the session expired is kept, and shown again after logging in.
    "newsroom.middleware.KeepTypedWhenSignedOutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while locked out
    "django.contrib.auth.backends.ModelBackend",
    # Signing in with a passkey alone (accounts/passkeys.py checks the lockout first).
    "django_otp_webauthn.backends.WebAuthnBackend",
]
# Login throttling: after 5 failures for one username from one address, 15 minutes' wait.
# Attempts are counted per username whether or not the account exists, and the lock-out
# page says the same for both, so it tells nobody which accounts exist.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies in front of the site (Varnish, a load balancer), whose X-Forwarded-For entries are
# trusted: login throttling, the sign-in record, the API's and the newsletter's limits all read the
# client's address through accounts.records.client_address.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.records.client_address"
AXES_VERBOSE = False

# No inline scripts or styles anywhere, the admin included.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# var/ holds what the quick start writes: the SQLite database, media, the broker's folders.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The planner's default random_page_cost (4) prices a page read as on a spinning disk: it then
# joined a search's 600 matches to their placements by reading all 52,000 placements (15 ms)
# rather than by 600 index lookups (7 ms). 1.1 is the usual figure for SSDs and a database that
# fits in memory. Set on each new PostgreSQL connection (digest.apps), not as a start-up option,
# which connection poolers such as PgBouncer refuse; empty leaves the server's own setting.
try:
    POSTGRES_RANDOM_PAGE_COST = float(env.str("POSTGRES_RANDOM_PAGE_COST", default="1.1") or "nan")
except ValueError:
    raise ImproperlyConfigured("POSTGRES_RANDOM_PAGE_COST must be a number, or empty for the server's own.") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite builds the reading-order index without its INCLUDE columns (they only let
    # PostgreSQL answer from the index alone); the index still works, so no warning at start-up.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=REDIS_URL)  # a separate cache server, if wanted
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.ReusingRedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="digest"),
            # The reader site serves pages uncached when the cache is down (reader/page_cache.py);
            # these bound what finding that out costs a request. Without them a cache host
            # that does not answer holds the request for the system's TCP timeout (minutes).
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT", default=0.25),
                "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=0.5),
            },
        }
    }
else:
    # Files, not process memory: the Celery worker that publishes an issue must be able to
    # purge the pages the web server cached.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

# The front cache (deploy/varnish/default.vcl) and how the site purges it (reader/front_cache.py).
# "none" (the default, one machine): pages go out "public, no-cache" and only the page cache
# above keeps them. "varnish": pages the page cache holds as current go out with s-maxage and
# their keys, and every purge is sent to each Varnish in FRONT_CACHE_PURGE_URLS.
FRONT_CACHE = env.str("FRONT_CACHE", default="none")
FRONT_CACHE_PURGE_URLS = env.list("FRONT_CACHE_PURGE_URLS", default=[])  # http://10.0.0.5:6091,…
FRONT_CACHE_MAX_AGE = env.int("FRONT_CACHE_MAX_AGE", default=3600)  # s-maxage: purges make pages fresh sooner
FRONT_CACHE_PURGE_TIMEOUT = env.float("FRONT_CACHE_PURGE_TIMEOUT", default=2.0)  # seconds per Varnish
if FRONT_CACHE not in ("none", "varnish"):
    raise ImproperlyConfigured(f"FRONT_CACHE must be 'none' or 'varnish', not {FRONT_CACHE!r}.")
if FRONT_CACHE == "varnish" and not FRONT_CACHE_PURGE_URLS:
    raise ImproperlyConfigured(
        "FRONT_CACHE=varnish needs FRONT_CACHE_PURGE_URLS: the address of each Varnish's purge listener."
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Media (the PDF editions and previews) on S3-compatible object storage when MEDIA_BUCKET is
# set (django-storages), so that every web and worker machine sees the same files; the local
# disk otherwise. Objects stay private: readers get a signed address valid for
# MEDIA_URL_EXPIRE_SECONDS (reader/pdf_views.py).
MEDIA_BUCKET = env.str("MEDIA_BUCKET", default="")
MEDIA_URL_EXPIRE_SECONDS = env.int("MEDIA_URL_EXPIRE_SECONDS", default=300)
if MEDIA_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_BUCKET,
            "location": env.str("MEDIA_PREFIX", default=""),
            # Empty: AWS itself, and credentials from boto3's usual chain (an instance role).
            "endpoint_url": env.str("MEDIA_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MEDIA_REGION", default="") or None,
            "access_key": env.str("MEDIA_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("MEDIA_SECRET_ACCESS_KEY", default="") or None,
            "addressing_style": env.str("MEDIA_ADDRESSING_STYLE", default="") or None,  # "path" for most non-AWS
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "querystring_expire": MEDIA_URL_EXPIRE_SECONDS,
            "file_overwrite": False,
        },
    }

# The PDF edition: a render that overruns either bound is stopped (digest/pdf.py). Renders
# run only in Celery tasks (the edition, the admin's DRAFT preview), whose soft time limit
# below is longer; a web request never renders, so gunicorn's 30 s timeout stays shorter.
PDF_RENDER_TIMEOUT = env.float("PDF_RENDER_TIMEOUT", default=60.0)  # seconds
PDF_RENDER_MEMORY_LIMIT_MB = env.int("PDF_RENDER_MEMORY_LIMIT_MB", default=1024)  # address space

# Production hardening; every switch follows DEBUG unless set explicitly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Celery. Without REDIS_URL the quick start uses the filesystem transport: a real broker
# for one machine, with nothing to install.
CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Redis redelivers an unacknowledged message after this long. Runs are resumed from the
    # database by the beat long before, so this only bounds how long a lost message lingers.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3, "socket_timeout": 10}
else:
    CELERY_BROKER_URL = "filesystem://"
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so acknowledge them only once done, and put them back when a worker
# dies mid-task: a killed worker's publication is taken up again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a long PDF render does not hold other tasks hostage
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180  # a task that hangs is killed; its run resumes from the database
CELERY_WORKER_MAX_TASKS_PER_CHILD = 200  # PDF rendering holds memory: recycle worker processes
# When the broker is down, a publisher's click fails fast (the run is in the database and
# the beat queues it once the broker is back) rather than hanging the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "publish-due-issues": {
        "task": "digest.tasks.publish_due",
        "schedule": env.float("PUBLISH_DUE_INTERVAL_SECONDS", default=60.0),
    },
    "resume-pdf-previews": {"task": "digest.tasks.resume_pdf_previews", "schedule": 60.0},
    "delete-discarded-files": {"task": "digest.tasks.delete_discarded_files", "schedule": 60.0},
    "send-account-notices": {
        "task": "accounts.tasks.send_account_notices",
        "schedule": env.float("ACCOUNT_NOTICES_INTERVAL_SECONDS", default=60.0),
    },
    "prune-sign-in-records": {"task": "accounts.tasks.prune_sign_in_records", "schedule": 3600.0},
    # Workflow mail (review, changes requested, changed after approval) a dead worker or a mail outage left.
    "send-newsroom-mail": {
        "task": "newsroom.tasks.send_newsroom_mail",
        "schedule": env.float("NEWSROOM_MAIL_INTERVAL_SECONDS", default=60.0),
    },
    "resume-mailings": {
        "task": "newsletter.tasks.resume_mailings",
        "schedule": env.float("NEWSLETTER_RESUME_INTERVAL_SECONDS", default=60.0),
    },
    "send-newsletter-notices": {"task": "newsletter.tasks.send_notices", "schedule": 60.0},
    "deliver-webhooks": {
        "task": "webhooks.tasks.deliver_due",
        "schedule": env.float("WEBHOOK_BEAT_INTERVAL_SECONDS", default=60.0),
    },
    "retry-page-purges": {
        "task": "reader.tasks.retry_purges",
        "schedule": env.float("PURGE_RETRY_INTERVAL_SECONDS", default=60.0),
    },
    # Stored issue bodies a lost message or a dead worker left stale (reader/issue_bodies.py).
    "rebuild-issue-bodies": {"task": "reader.tasks.rebuild_issue_bodies", "schedule": 60.0},
    "fetch-due-feeds": {
        "task": "intake.tasks.fetch_due_feeds",
        "schedule": env.float("INTAKE_DUE_INTERVAL_SECONDS", default=60.0),
    },
}

# The publish run (digest/publishing.py).
PUBLISHING_MAX_ATTEMPTS = env.int("PUBLISHING_MAX_ATTEMPTS", default=5)
PUBLISHING_RETRY_BACKOFF_SECONDS = env.float("PUBLISHING_RETRY_BACKOFF_SECONDS", default=10.0)
PUBLISHING_RETRY_BACKOFF_MAX_SECONDS = 600.0
# {"step name": seconds}: slows a step so the fault tests can kill a worker in the middle of it.
PUBLISHING_FAULT_DELAYS = env.json("PUBLISHING_FAULT_DELAYS", default={})

TAGGIT_CASE_INSENSITIVE = True
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour: a typed "example.com" means https

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

SITE_NAME = "Engineering @ Scale"
# The site's address as people reach it, for links in mails (the newsroom's notifications).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0].lstrip('.')}")

# Requests to addresses somebody else chose (webhook endpoints, feeds) go through outbound.request().
# Networks that are not public but allowed anyway (CIDRs), e.g. a feed server on the office network;
# empty by default: loopback, private, link-local (cloud metadata) and the like are refused.
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
OUTBOUND_USER_AGENT = env.str("OUTBOUND_USER_AGENT", default=f"{SITE_NAME} (+{SITE_URL})")
OUTBOUND_CONNECT_TIMEOUT = env.float("OUTBOUND_CONNECT_TIMEOUT", default=5.0)  # seconds, lookup and connect
OUTBOUND_READ_TIMEOUT = env.float("OUTBOUND_READ_TIMEOUT", default=10.0)  # seconds between two reads
OUTBOUND_TOTAL_TIMEOUT = env.float("OUTBOUND_TOTAL_TIMEOUT", default=30.0)  # seconds for a request, redirects included
OUTBOUND_MAX_BYTES = env.int("OUTBOUND_MAX_BYTES", default=5 * 1024 * 1024)

# Mail: the quick start writes each message to a file in var/mail (nothing leaves the
# machine); production sends it through EMAIL_HOST, or a provider's API through anymail
# (EMAIL_BACKEND=anymail.backends.amazon_ses.EmailBackend, …: README, "Newsletter").
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=VAR_DIR / "mail")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds: a mail server that hangs does not hold a request
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="newsroom@localhost")

# Staff accounts (accounts/). Roles that must sign in with a second factor: newsroom group
# names, and "superuser" for superusers. They are led to enrol at their next sign-in.
ACCOUNTS_SECOND_FACTOR_REQUIRED_FOR = env.list("SECOND_FACTOR_REQUIRED_FOR", default=["Publisher", "superuser"])
ACCOUNTS_SIGN_IN_RECORD_DAYS = env.int("SIGN_IN_RECORD_DAYS", default=90)  # how long the sign-in record is kept
ACCOUNTS_SECOND_STEP_SECONDS = 300  # between the password and the second factor
ACCOUNTS_RECOVERY_CODES = 10
OTP_TOTP_ISSUER = SITE_NAME
# Passkeys (django-otp-webauthn): the relying party is the site's host name, and only the
# site's own origin may answer a ceremony. A passkey is bound to the RP ID: changing it
# means everyone registers their passkeys again.
_site = urlsplit(SITE_URL)
# An IP address cannot be a relying party: the quick start's passkeys work at http://localhost:8000.
_site_host = "localhost" if _site.hostname in ("127.0.0.1", "::1") else _site.hostname
OTP_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default=_site_host)
OTP_WEBAUTHN_RP_NAME = SITE_NAME
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "WEBAUTHN_ALLOWED_ORIGINS", default=[f"{_site.scheme}://{_site_host}" + (f":{_site.port}" if _site.port else "")]
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True
OTP_WEBAUTHN_TIMEOUT_SECONDS = 120
# Anymail's settings, each from an environment variable named ANYMAIL_<SETTING>
# (ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_MAILGUN_API_KEY, ANYMAIL_WEBHOOK_SECRET…): a
# provider is chosen and configured without a code change.
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in env.ENVIRON.items() if name.startswith("ANYMAIL_")}

# The newsletter (newsletter/; README, "Newsletter").
NEWSLETTER_FROM_EMAIL = env.str("NEWSLETTER_FROM_EMAIL", default=DEFAULT_FROM_EMAIL)
NEWSLETTER_REPLY_TO = env.str("NEWSLETTER_REPLY_TO", default="")
NEWSLETTER_LIST_ID = env.str(
    "NEWSLETTER_LIST_ID", default=f"newsletter.{SITE_URL.split('://')[-1].split('/')[0].split(':')[0]}"
)
NEWSLETTER_POSTAL_ADDRESS = env.str("NEWSLETTER_POSTAL_ADDRESS", default="")
# The key of the hashes erased addresses are remembered by. Derived from SECRET_KEY unless
# set; set it on its own in production, so rotating SECRET_KEY keeps erased addresses erased.
NEWSLETTER_HASH_KEY = env.str("NEWSLETTER_HASH_KEY", default="") or f"newsletter-erasure:{SECRET_KEY}"
NEWSLETTER_BATCH_SIZE = env.int("NEWSLETTER_BATCH_SIZE", default=100)  # recipients per claim and connection
NEWSLETTER_MESSAGES_PER_SECOND = env.float("NEWSLETTER_MESSAGES_PER_SECOND", default=250.0)  # per worker; 0: no limit
# Send tasks queued per mailing, side by side (the worker's processes: Celery's default is one per core).
NEWSLETTER_PARALLEL_SENDS = env.int("NEWSLETTER_PARALLEL_SENDS", default=2)
NEWSLETTER_MAX_ATTEMPTS = env.int("NEWSLETTER_MAX_ATTEMPTS", default=8)
NEWSLETTER_RETRY_BACKOFF_SECONDS = env.float("NEWSLETTER_RETRY_BACKOFF_SECONDS", default=30.0)
NEWSLETTER_RETRY_BACKOFF_MAX_SECONDS = env.float("NEWSLETTER_RETRY_BACKOFF_MAX_SECONDS", default=3600.0)
# A send task stops after this long and queues its follow-up (below the task time limits).
NEWSLETTER_TASK_SECONDS = env.float("NEWSLETTER_TASK_SECONDS", default=60.0)
# A claim older than this was a dead worker's (a task lives at most CELERY_TASK_TIME_LIMIT).
NEWSLETTER_CLAIM_TIMEOUT_SECONDS = env.float("NEWSLETTER_CLAIM_TIMEOUT_SECONDS", default=300.0)
NEWSLETTER_STALLED_AFTER_SECONDS = env.float("NEWSLETTER_STALLED_AFTER_SECONDS", default=600.0)
NEWSLETTER_MAX_HTML_BYTES = 100_000  # Gmail clips an HTML part over 102 KB
NEWSLETTER_CONFIRM_MAX_AGE_SECONDS = env.int("NEWSLETTER_CONFIRM_MAX_AGE_SECONDS", default=3 * 24 * 3600)
NEWSLETTER_NOTICES_PER_DAY = 3  # confirmation requests (or data exports) one address may be sent a day
NEWSLETTER_SUBSCRIBES_PER_HOUR = env.int("NEWSLETTER_SUBSCRIBES_PER_HOUR", default=20)  # per client address
# The JSON API (api/): anonymous requests per client address and minute; 0 turns the limit off.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=300)

# Webhooks (webhooks/): seconds between attempts of a delivery after the first, about a day in
# all (Standard Webhooks' suggested schedule); then the delivery fails and its endpoint is disabled.
WEBHOOK_RETRY_SCHEDULE = env.json("WEBHOOK_RETRY_SCHEDULE", default=[5, 300, 1800, 7200, 18000, 36000, 36000])
WEBHOOK_SECRET_GRACE_HOURS = env.float("WEBHOOK_SECRET_GRACE_HOURS", default=24.0)  # a rotated secret still signs
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOK_RESPONSE_MAX_BYTES = 64 * 1024  # of a receiver's answer read at most (its status decides)
WEBHOOK_BEAT_BATCH = 200  # deliveries one beat sends at most; the next beat takes the rest
# The intake: companies' feeds read on a schedule (intake/fetching.py). Every request goes
# through the outbound guard (OUTBOUND_*); these bound what one feed may cost a worker.
INTAKE_USER_AGENT = env.str("INTAKE_USER_AGENT", default=f"{SITE_NAME} feed reader (+{SITE_URL})")
INTAKE_FEEDS_PER_ROUND = env.int("INTAKE_FEEDS_PER_ROUND", default=2000)  # claimed by one beat at most
INTAKE_FETCH_LEASE_SECONDS = env.int("INTAKE_FETCH_LEASE_SECONDS", default=600)  # then a claimed feed is due again
INTAKE_MAX_FEED_BYTES = env.int("INTAKE_MAX_FEED_BYTES", default=5 * 1024 * 1024)
INTAKE_MAX_PAGE_BYTES = env.int("INTAKE_MAX_PAGE_BYTES", default=1024 * 1024)  # a post added by its address
INTAKE_MAX_REDIRECTS = env.int("INTAKE_MAX_REDIRECTS", default=5)
INTAKE_CONNECT_TIMEOUT = env.float("INTAKE_CONNECT_TIMEOUT", default=5.0)
INTAKE_READ_TIMEOUT = env.float("INTAKE_READ_TIMEOUT", default=10.0)
INTAKE_FETCH_TIMEOUT = env.float("INTAKE_FETCH_TIMEOUT", default=30.0)  # the whole feed request, redirects included
INTAKE_MAX_RESOLVES = env.int("INTAKE_MAX_RESOLVES", default=50)  # new posts' redirects followed per fetch
INTAKE_RESOLVE_BUDGET_SECONDS = env.float("INTAKE_RESOLVE_BUDGET_SECONDS", default=20.0)  # from the fetch's start
INTAKE_MAX_BACKOFF = datetime.timedelta(hours=env.float("INTAKE_MAX_BACKOFF_HOURS", default=24.0))
