"""Settings for the Benchlearning portal, read from the environment.

Development needs nothing: SQLite, tasks in process, console e-mail, DEBUG on when the
Makefile sets it. Production (DEBUG off) refuses to start without SECRET_KEY and
ALLOWED_HOSTS instead of falling back to something unsafe.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envlist(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


DEBUG = envbool("DEBUG", False)

SECRET_KEY = envstr("SECRET_KEY")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
if DEBUG:
    # A fixed development key: DEBUG is never on in production (see the check below).
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-benchlearning-do-not-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise ImproperlyConfigured(
            "DEBUG is off, so these environment variables are required: "
            + ", ".join(missing)
            + ". For local development set DEBUG=1 (the Makefile does); see .env.example."
        )
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")

CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "networks",
    "indicators",
    "comparisons",
    "learning",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the body (CSRF reads the form): a too large upload is refused unread.
    "benchlearning.middleware.RequestSizeLimitMiddleware",
    # After the size check (a body too large is not read) and the language (the refusal is
    # translated), before anything looks the path up or reads a form.
    "benchlearning.middleware.ControlCharacterMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "benchlearning.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "networks.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "benchlearning.wsgi.application"
ASGI_APPLICATION = "benchlearning.asgi.application"

# DATABASE_URL: sqlite:///path or postgres://user@host:port/name; SQLite in the project by default.
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
        conn_health_checks=True,  # a kept connection is checked before a request reuses it
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not envbool("DB_JIT", False):
    # PostgreSQL's JIT compiles any statement whose estimated cost is high, and estimates are
    # high for the index walks and lateral reads here: 275 ms of compiling for a 15 ms read
    # (measured on the incremental recompute). The portal's statements are short: no JIT.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The largest request body accepted (413 above it): ten practice attachments of 10 MB and the form.
MAX_REQUEST_BYTES = envint("MAX_REQUEST_BYTES", 101 * 1024 * 1024)
# One good-practice attachment at most (a case holds at most ten).
LEARNING_ATTACHMENT_MAX_BYTES = envint("LEARNING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# The first threshold of Python's garbage collector in the web server (benchlearning/wsgi.py).
GC_THRESHOLD_0 = envint("GC_THRESHOLD_0", 20000)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): five failures for one username from one address lock that
# pair out for an hour; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = 1 if envbool("BEHIND_PROXY", False) else None
AXES_VERBOSE = False
# Password reset mails (networks.views.PasswordResetView): at most this many an hour to one
# e-mail address, and asked from one client address.
PASSWORD_RESET_PER_ADDRESS = envint("PASSWORD_RESET_PER_ADDRESS", 3)
PASSWORD_RESET_PER_IP = envint("PASSWORD_RESET_PER_IP", 10)
# The cache holds throttle counts (networks/throttles.py) that every web worker must share: a
# database table (`manage.py createcachetable`, run by `make migrate` and `make serve`), not
# each process's memory.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "benchlearning_cache",
    }
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "networks:my_work"
LOGOUT_REDIRECT_URL = "home"

# Latvian first, English second. Numbers the Latvian way: 1 234,5.
LANGUAGE_CODE = "lv"
LANGUAGES = [("lv", _("Latvian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_THOUSAND_SEPARATOR = True
# One date format per language (benchlearning/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["benchlearning.formats"]
TIME_ZONE = envstr("TIME_ZONE", "Europe/Riga")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# plotly.js is served from the plotly wheel (at the version it pins) as /static/plotly/plotly.min.js.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "comparisons.finders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(envstr("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "benchlearning@localhost")
# The portal's address as people reach it: e-mails link to pages with it.
PORTAL_URL = envstr("PORTAL_URL", "http://127.0.0.1:8000")

# Celery: Redis when CELERY_BROKER_URL is set; otherwise tasks run eagerly in this process.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = envint("CELERY_BROKER_CONNECTION_TIMEOUT", 3)
# The queue the recompute runs go to, e.g. "recompute" for workers on hosts of their own
# (docs/architecture.md, "Workers on more than one machine"); empty: Celery's default queue.
# The sender chooses the queue: set it alike wherever the portal or a worker runs.
RECOMPUTE_QUEUE = envstr("RECOMPUTE_QUEUE")
CELERY_TASK_ROUTES = {"comparisons.tasks.recompute_run_task": {"queue": RECOMPUTE_QUEUE}} if RECOMPUTE_QUEUE else {}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    # The nightly full recompute of every network/period (comparisons).
    "recompute-all-nightly": {"task": "comparisons.tasks.recompute_all_task", "schedule": crontab(hour=2, minute=30)},
    # Runs requested while the broker was down are sent again once it is back.
    "recompute-pending-resend": {"task": "comparisons.tasks.pending_runs_resend_task", "schedule": 300.0},
}

# Comparison engine. Nearest-neighbour peer groups use these data item codes, or municipality
# attributes of that name when no approved value exists, and this many neighbours by default.
COMPARISON_NEAREST_CONTEXT = envstr("COMPARISON_NEAREST_CONTEXT", "POPULATION area_km2").split()
COMPARISON_NEAREST_K = envint("COMPARISON_NEAREST_K", 5)
# Municipality attributes compared as `attr:NAME` peer groups; None: every attribute whose
# values repeat (family group, size class), not ones unique per municipality (area, ISO code).
COMPARISON_ATTRIBUTES: list[str] | None = None
# Scopes (network/period) a `recompute --sync` computes at once; 0: one per core.
RECOMPUTE_WORKERS = envint("RECOMPUTE_WORKERS", 0)
# A recompute's scope lock whose heartbeat is older than this (seconds) was held by a dead
# worker: the next run takes the scope over. Also how long a pending run may wait before a
# new request of its scope sends it to the workers again.
COMPARISON_LOCK_STALE_SECONDS = 600
# Three days before a round's deadline, its staff who have not submitted get a reminder (daily, 07:00).
CELERY_BEAT_SCHEDULE["indicators-deadline-reminders"] = {
    "task": "indicators.tasks.deadline_reminders_send",
    "schedule": crontab(hour=7, minute=0),
}

# Production hardening: on whenever DEBUG is off; `manage.py check --deploy` is clean then.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", False) else None
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: everything from the portal itself, no inline scripts, nothing from
# elsewhere (the portal runs on closed municipal networks). Data reaches scripts via json_script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Dashboards: the map is a choropleth of the municipal boundaries in this GeoJSON (a local file;
# nothing is fetched at run time), by default the Latvian municipalities of 2021-2025 shipped in
# data/boundaries/. Features are matched on the property named below against the municipality
# code (ATVK). An empty value draws the grid map of centroids instead.
COMPARISON_BOUNDARIES_GEOJSON = envstr(
    "COMPARISON_BOUNDARIES_GEOJSON", str(BASE_DIR / "data" / "boundaries" / "lv_municipalities_2021_43_approx.geojson")
)
COMPARISON_BOUNDARIES_CODE_PROPERTY = envstr("COMPARISON_BOUNDARIES_CODE_PROPERTY", "atvk_code")

# Open-data API: read-only JSON, session login for members, OpenAPI at /api/schema/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # JSON only: the browsable API's pages carry inline scripts, which the CSP forbids.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Benchlearning open data",
    "DESCRIPTION": "Published comparison results and indicator definitions (docs/statistics.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}
