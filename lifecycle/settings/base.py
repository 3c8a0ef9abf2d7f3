"""Settings shared by every environment. Environment files override these."""

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "lifecycle.ops",
    "lifecycle",
    "accounts",
    "accounts.support",
    "onboarding",
    "success",
    "success.health",
    "success.alerts",
    "success.playbooks",
    "lifecycle.notifications",
    # The HubSpot integration, a plug-in: remove this line (lifecycle.settings.without_hubspot
    # does) and Lifecycle runs without HubSpot. Its settings and hooks are below.
    "accounts.hubspot",
]

MIDDLEWARE = [
    "lifecycle.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "lifecycle.middleware.UserTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "lifecycle.urls"
WSGI_APPLICATION = "lifecycle.wsgi.application"
ASGI_APPLICATION = "lifecycle.asgi.application"

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
                "accounts.context_processors.role",
                "lifecycle.context_processors.nav",
            ],
            # One date and one money format everywhere: `|day`, `|money`.
            "builtins": ["accounts.templatetags.formats"],
        },
    },
]


def database_from_env(default_url: str) -> dict[str, Any]:
    """DATABASE_URL wins; SQLite gets WAL and immediate transactions so the web
    process and the worker do not lock each other out."""
    url = os.environ.get("DATABASE_URL") or default_url  # an empty DATABASE_URL is unset
    # Persistent connections are checked before each request or task reuses them, so
    # a database restart costs a reconnect instead of one 500 per process.
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


DATABASES = {"default": database_from_env(f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# PostgreSQL keeps the plans of a few hot statements on each connection (PREPARE,
# accounts.plain_sql.execute_prepared). Set DATABASE_PREPARED_STATEMENTS=0 behind a
# pooler in transaction mode (PgBouncer's default pool_mode=session is fine).
PREPARED_STATEMENTS = os.environ.get("DATABASE_PREPARED_STATEMENTS", "1") == "1"


def redis_url() -> str:
    """REDIS_URL (or CACHE_URL when it names Redis): the shared cache and task broker."""
    cache_url = os.environ.get("CACHE_URL", "")
    if cache_url.startswith(("redis://", "rediss://")):
        return cache_url
    return os.environ.get("REDIS_URL", "")


def caches_from_env() -> dict[str, Any]:
    """The cache every process shares: API throttling, push coalescing and django-q2's
    cluster heartbeats live in it. Redis when configured; the database otherwise
    (`manage.py createcachetable`, run by migrate's callers). Never per-process memory:
    with two web workers that would count each token's requests once per worker."""
    url = redis_url()
    if url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "lifecycle",
            }
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "lifecycle_cache",
        }
    }


CACHES = caches_from_env()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Ours reads the signed-in user's role with their row (accounts/backends.py); Django's
# own stays listed so sessions signed in under it stay signed in.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.RoleReadingBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The project's default zone (people choose their own on their notification
# preferences; pages and digests follow theirs).
TIME_ZONE = os.environ.get("TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS: list[Path] = []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# CSV uploads are parsed in memory; keep them bounded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024


def q_cluster_from_env() -> dict[str, Any]:
    """django-q2: the Redis broker when REDIS_URL is set (lifecycle.ops.brokers.DelayedRedis: Redis
    with delayed tasks), the database otherwise. One cluster per queue (lifecycle.ops.queues): the
    default one takes webhooks and pushes, "sync" the HubSpot imports and syncs, "scoring"
    health and statuses, "notifications" alerts. Start each with
    `Q_CLUSTER_NAME=<queue> manage.py qcluster` (Q_SEPARATE_QUEUES=0: one cluster for all)."""
    workers = int(os.environ.get("Q_CLUSTER_WORKERS", "2"))
    alt_workers = int(os.environ.get("Q_CLUSTER_ALT_WORKERS", "1"))
    conf: dict[str, Any] = {
        "name": "lifecycle",
        # One worker per core by default; Q_CLUSTER_WORKERS overrides (benchmarks use 1).
        "workers": workers,
        "timeout": 600,
        "retry": 720,
        "max_attempts": 3,
        "catch_up": False,
        "poll": 1,
        "ALT_CLUSTERS": {
            "sync": {"workers": alt_workers, "timeout": 3600, "retry": 3720},
            "scoring": {"workers": alt_workers, "timeout": 1800, "retry": 1920},
            "notifications": {"workers": alt_workers},
        },
    }
    url = redis_url()
    if url:
        conf["redis"] = url
        conf["broker_class"] = "lifecycle.ops.brokers.DelayedRedis"
    else:
        conf["orm"] = "default"
    return conf


Q_CLUSTER = q_cluster_from_env()
Q_SEPARATE_QUEUES = os.environ.get("Q_SEPARATE_QUEUES", "1") == "1"

# The API (accounts.api): integrations send a token, the browser its session.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["accounts.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "accounts.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.ApiTokenRateThrottle"],
    # Per token; API_RATE / API_INGEST_RATE override (e.g. "600/min").
    "DEFAULT_THROTTLE_RATES": {
        "api": os.environ.get("API_RATE", "1200/min"),
        "api_ingest": os.environ.get("API_INGEST_RATE", "120/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.exceptions.api_exception_handler",
}

# LOG_FORMAT=json (production's default): one JSON object a line, with the request id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "lifecycle.ops.logs.RequestIdFilter"},
        "refusals_on_one_line": {"()": "lifecycle.log.RefusalsOnOneLine"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "lifecycle.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["refusals_on_one_line"]},
    },
}

PORTFOLIO_PAGE_SIZE = 25

# The metrics dashboard reuses a computed snapshot this long (lifecycle/metrics/
# snapshots.py; a scheduled job recomputes the whole portfolio's at half this age).
# 0 computes the figures for every request.
METRICS_SNAPSHOT_MAX_AGE_SECONDS = int(os.environ.get("METRICS_SNAPSHOT_MAX_AGE_SECONDS", "600"))

# bench_pages mounts a bare HttpResponse("ok") view at /_bench/bare/ (settings.bench only).
BENCH_BARE_VIEW = False

# HubSpot (accounts/hubspot): a private app's access token, the app's client secret
# (webhook signatures), the API host (the sandbox's URL in development and tests) and
# the portal's tier, which sets the shared rate-limit budget.

HUBSPOT_ACCESS_TOKEN = os.environ.get("HUBSPOT_ACCESS_TOKEN", "")
HUBSPOT_CLIENT_SECRET = os.environ.get("HUBSPOT_CLIENT_SECRET", "")
HUBSPOT_BASE_URL = os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com")
HUBSPOT_TIER = os.environ.get("HUBSPOT_TIER", "professional")
# The private app's id (HubSpot: its settings page; also the `appId` of each webhook
# delivery): property history names it as the source of our writes, which is how
# two-way sync tells its own echoes from people's edits (rules/provenance.py).
HUBSPOT_APP_ID = os.environ.get("HUBSPOT_APP_ID", "")
# Incremental sync runs every this many minutes; ARR comes from this company property,
# or from the sum of won deals with "won_deals".
HUBSPOT_POLL_MINUTES = int(os.environ.get("HUBSPOT_POLL_MINUTES", "5"))
HUBSPOT_ARR_SOURCE = os.environ.get("HUBSPOT_ARR_SOURCE", "annualrevenue")
# Links from Lifecycle's pages to records in HubSpot's app (tickets, surveys, calls...).
HUBSPOT_PORTAL_ID = os.environ.get("HUBSPOT_PORTAL_ID", "")
HUBSPOT_APP_URL = os.environ.get("HUBSPOT_APP_URL", "https://app.hubspot.com")
# Service Hub and activity objects synced in (each needs its read scope on the private
# app); empty it for a portal without Service Hub. See docs/hubspot-support.md.
HUBSPOT_SUPPORT_OBJECTS = [
    t
    for t in os.environ.get(
        "HUBSPOT_SUPPORT_OBJECTS", "tickets,feedback_submissions,notes,calls,meetings,emails,tasks"
    ).split(",")
    if t
]
# Two-way sync: pushes of what Lifecycle changed wait this long so a burst of edits is
# one write; a scheduled pass every minute catches bulk writes and failed pushes.
HUBSPOT_PUSH_ENABLED = os.environ.get("HUBSPOT_PUSH_ENABLED", "1") == "1"
HUBSPOT_PUSH_DELAY_SECONDS = float(os.environ.get("HUBSPOT_PUSH_DELAY_SECONDS", "1"))
# A pass with at least HUBSPOT_PUSH_FAN_OUT_MIN accounts due (the daily health job's
# writes) queues HUBSPOT_PUSH_HELPERS helper tasks, so idle workers on any host push a
# share of its accounts (outbound/push.py: partitions, each under its own lock).
HUBSPOT_PUSH_HELPERS = int(os.environ.get("HUBSPOT_PUSH_HELPERS", "1"))
HUBSPOT_PUSH_FAN_OUT_MIN = int(os.environ.get("HUBSPOT_PUSH_FAN_OUT_MIN", "1000"))
# Recovery without a person (docs/hubspot.md, "Recovery"): a push that failed for a
# transient reason (429, 5xx, timeout) is retried after this many seconds, doubling per
# failure in a row up to the maximum; HubSpot refusing a record quarantines it at once.
HUBSPOT_PUSH_RETRY_SECONDS = float(os.environ.get("HUBSPOT_PUSH_RETRY_SECONDS", "30"))
HUBSPOT_PUSH_RETRY_MAX_SECONDS = float(os.environ.get("HUBSPOT_PUSH_RETRY_MAX_SECONDS", "600"))
# The push's circuit breaker opens after this many outage failures in a row (5xx,
# timeouts, dropped connections), pauses pushes for the cooldown (doubling while probes
# fail, up to the maximum), then lets one probe call through.
HUBSPOT_BREAKER_THRESHOLD = int(os.environ.get("HUBSPOT_BREAKER_THRESHOLD", "5"))
HUBSPOT_BREAKER_COOLDOWN_SECONDS = float(os.environ.get("HUBSPOT_BREAKER_COOLDOWN_SECONDS", "30"))
HUBSPOT_BREAKER_COOLDOWN_MAX_SECONDS = float(
    os.environ.get("HUBSPOT_BREAKER_COOLDOWN_MAX_SECONDS", "300")
)
HUBSPOT_BREAKER_PROBE_SECONDS = float(os.environ.get("HUBSPOT_BREAKER_PROBE_SECONDS", "120"))
# Accounts made in Lifecycle (by hand, from a CSV) get a HubSpot company once the first
# import has linked what it could; 0 keeps them in Lifecycle only.
HUBSPOT_CREATE_COMPANIES = os.environ.get("HUBSPOT_CREATE_COMPANIES", "1") == "1"

# Hooks: the core apps reach integrations only through these dotted paths, so they import
# none (the HubSpot app fills them; lifecycle.settings.without_hubspot empties them).
# Called once changes of accounts are committed, with the changed account ids: HubSpot
# pushes their synced fields soon.
ACCOUNT_CHANGED_HOOKS = ["accounts.hubspot.tasks.push_soon"]
# Count what waits for a person in an integration (open sync conflicts), called with
# account_id= (the account page) or owner_id= (My work); each returns a number.
OPEN_CONFLICTS_HOOKS = ["accounts.hubspot.selectors.open_conflicts_count"]
# What /healthz reports besides its checks, each a dict merged into the answer (the
# push's circuit breaker: {"hubspot": {"push": "closed" | "open" | "half_open", ...}}).
HEALTH_REPORT_HOOKS = ["accounts.hubspot.selectors.health_report"]
# Called by the watchdog (every minute, and when a worker process starts) to resume the
# work of dead workers (lifecycle/ops/jobs.py): HubSpot resumes its sync runs.
WORK_RECOVER_HOOKS = ["accounts.hubspot.tasks.hubspot_runs_recover"]
# CRM tasks (a playbook's steps as HubSpot tasks, docs/hubspot.md): called with account
# ids once tasks Lifecycle opened or changed are committed (HubSpot pushes them soon), and
# once sync wrote tasks HubSpot changed (playbooks complete the steps done there). Empty
# CRM_TASKS_CHANGED_HOOKS and playbooks open no CRM tasks.
CRM_TASKS_CHANGED_HOOKS = ["accounts.hubspot.tasks.push_soon"]
CRM_TASKS_SYNCED_HOOKS = ["success.playbooks.services.run_steps_follow_crm"]
# Called with (object type, account ids) once sync committed support records (tickets,
# feedback_submissions, notes, calls, ...): detractor answers open alerts and expansion
# hints in tickets and notes raise signals within seconds (success.alerts.support).
SUPPORT_SYNCED_HOOKS = ["success.alerts.support.support_synced"]

# The API: OpenAPI schema at /api/schema/, docs served from our own static files.
API_USAGE_INGEST_MAX_ROWS = 5000
SPECTACULAR_SETTINGS = {
    "TITLE": "Lifecycle API",
    "DESCRIPTION": "Integrations feed usage data and read customer-success data. "
    "Authenticate with `Authorization: Bearer <token>` (tokens: API tokens page, admins).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"StageEnum": "accounts.models.Stage"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.api.schema.add_error_responses",
        "accounts.api.schema.describe_accepted_input",
    ],
}

# Success: renewals open this many days before the account's renewal date.
SUCCESS_RENEWAL_LEAD_DAYS = 120

# Called after usage is stored through the API, with the touched account ids (dotted
# paths, so accounts imports no other app): rescore their health at once.
USAGE_INGESTED_HOOKS = ["success.health.tasks.enqueue_rescore"]
# A bulk write of at least this many rows (the HubSpot full import, a CSV
# import, usage ingestion) refreshes the planner's statistics of the tables it
# filled (accounts.bulk.analyze); the demo data always does.
BULK_ANALYZE_MIN_ROWS = int(os.environ.get("BULK_ANALYZE_MIN_ROWS", "5000"))

# One name per choice set that the other apps' API endpoints share or repeat.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"],  # type: ignore[dict-item]
    "ForecastCategoryEnum": "accounts.models.ForecastCategory",
    "HealthBandEnum": "accounts.models.HealthBand",
    "OnboardingPlanStatusEnum": "onboarding.models.PlanStatus",
    "ObjectiveStatusEnum": "success.models.ObjectiveStatus",
    "RenewalStatusEnum": "success.api.renewals.RenewalStatus",
    "BusinessReviewStatusEnum": "success.api.reviews.ReviewStatus",
    "AlertStatusEnum": "success.alerts.api.AlertStatus",
}

# Alerts and expansion signals tell other apps through these (dotted paths, called
# inside the transaction that opened or raised them): notifications are written
# with the event.
ALERTS_OPENED_HOOKS = ["lifecycle.notifications.hooks.alerts_opened"]
EXPANSION_SIGNALS_RAISED_HOOKS = ["lifecycle.notifications.hooks.expansion_signals_raised"]

# Email (lifecycle.notifications): SMTP from the environment (EMAIL_HOST, EMAIL_PORT,
# EMAIL_USE_TLS, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD), or the console (the make run log)
# when no host is set. Django 6.1's MAILERS, built from those variables.


def mailers_from_env(environ: Any = os.environ, *, console: bool = True) -> dict[str, Any]:
    """SMTP from EMAIL_* variables; without EMAIL_HOST, the console (development)
    or, with console=False (production), the local MTA on localhost:25."""
    host = environ.get("EMAIL_HOST", "")
    if not host and console:
        return {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": host or "localhost",
                "port": int(environ.get("EMAIL_PORT") or "25"),
                "use_tls": environ.get("EMAIL_USE_TLS", "").lower() in ("1", "true", "yes"),
                "username": environ.get("EMAIL_HOST_USER", ""),
                "password": environ.get("EMAIL_HOST_PASSWORD", ""),
                "timeout": 10,
            },
        }
    }


MAILERS = mailers_from_env()
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "Lifecycle <lifecycle@localhost>"
# Links in emails and Slack messages are absolute, from here.
SITE_URL = os.environ.get("SITE_URL") or "http://127.0.0.1:8000"
# Delivery: a claimed send holds its lease this long (a dead worker's send is
# taken again after it); retries back off from the base, doubling, up to the
# last attempt, then the delivery is failed for an admin to see. The task that
# follows an event retries inline while the waits add up to at most
# NOTIFY_INLINE_RETRY_SECONDS.
NOTIFY_LEASE_SECONDS = float(os.environ.get("NOTIFY_LEASE_SECONDS") or "120")
NOTIFY_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS") or "2")
NOTIFY_MAX_ATTEMPTS = 8
NOTIFY_INLINE_RETRY_SECONDS = 15.0
NOTIFY_SEND_TIMEOUT_SECONDS = 10.0
NOTIFY_DEFAULT_DIGEST_HOUR = int(os.environ.get("NOTIFY_DEFAULT_DIGEST_HOUR") or "8")
