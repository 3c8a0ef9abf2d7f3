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
    "lifecycle",
    "accounts",
    "onboarding",
    "success",
    "success.health",
    "success.alerts",
    # The HubSpot integration, a plug-in: remove this line (lifecycle.settings.without_hubspot
    # does) and Lifecycle runs without HubSpot. Its settings and hooks are below.
    "accounts.hubspot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
            ],
        },
    },
]


def database_from_env(default_url: str) -> dict[str, Any]:
    """DATABASE_URL wins; SQLite gets WAL and immediate transactions so the web
    process and the worker do not lock each other out."""
    url = os.environ.get("DATABASE_URL") or default_url  # an empty DATABASE_URL is unset
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


DATABASES = {"default": database_from_env(f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
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
TIME_ZONE = "UTC"
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

Q_CLUSTER = {
    "name": "lifecycle",
    "orm": "default",
    # One worker per core by default; Q_CLUSTER_WORKERS overrides (benchmarks use 1).
    "workers": int(os.environ.get("Q_CLUSTER_WORKERS", "2")),
    "timeout": 600,
    "retry": 720,
    "max_attempts": 3,
    "catch_up": False,
    "poll": 1,
}

# The API (accounts.api): integrations send a token, the browser its session.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "accounts.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.ApiTokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": "1200/min", "api_ingest": "120/min"},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.exceptions.api_exception_handler",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

PORTFOLIO_PAGE_SIZE = 25

# HubSpot (accounts/hubspot): a private app's access token, the app's client secret
# (webhook signatures), the API host (the sandbox's URL in development and tests) and
# the portal's tier, which sets the shared rate-limit budget.

HUBSPOT_ACCESS_TOKEN = os.environ.get("HUBSPOT_ACCESS_TOKEN", "")
HUBSPOT_CLIENT_SECRET = os.environ.get("HUBSPOT_CLIENT_SECRET", "")
HUBSPOT_BASE_URL = os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com")
HUBSPOT_TIER = os.environ.get("HUBSPOT_TIER", "professional")
# Incremental sync runs every this many minutes; ARR comes from this company property,
# or from the sum of won deals with "won_deals".
HUBSPOT_POLL_MINUTES = int(os.environ.get("HUBSPOT_POLL_MINUTES", "5"))
HUBSPOT_ARR_SOURCE = os.environ.get("HUBSPOT_ARR_SOURCE", "annualrevenue")
# Two-way sync: pushes of what Lifecycle changed wait this long so a burst of edits is
# one write; a scheduled pass every minute catches bulk writes and failed pushes.
HUBSPOT_PUSH_ENABLED = os.environ.get("HUBSPOT_PUSH_ENABLED", "1") == "1"
HUBSPOT_PUSH_DELAY_SECONDS = float(os.environ.get("HUBSPOT_PUSH_DELAY_SECONDS", "1"))
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
    ],
}

# Success: renewals open this many days before the account's renewal date.
SUCCESS_RENEWAL_LEAD_DAYS = 120

# Called after usage is stored through the API, with the touched account ids (dotted
# paths, so accounts imports no other app): rescore their health at once.
USAGE_INGESTED_HOOKS = ["success.health.tasks.enqueue_rescore"]

# One name per choice set that the other apps' API endpoints share or repeat.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"],  # type: ignore[dict-item]
    "ForecastCategoryEnum": "accounts.models.ForecastCategory",
    "HealthBandEnum": "accounts.models.HealthBand",
    "OnboardingPlanStatusEnum": "onboarding.models.PlanStatus",
    "ObjectiveStatusEnum": "success.models.ObjectiveStatus",
    "RenewalStatusEnum": "success.api.RenewalStatus",
    "BusinessReviewStatusEnum": "success.api.ReviewStatus",
    "AlertStatusEnum": "success.alerts.api.AlertStatus",
}
