"""textdesk settings: one module, configured from the environment (12-factor).

It fails closed: without SECRET_KEY it refuses to start, unless DEBUG=1 asks for development
(`make run`, `make test` and pytest set it): then SQLite in var/, the embedded filesystem
broker, development keys and the Text Request sandbox on 127.0.0.1:8001. Production sets
SECRET_KEY, DATABASE_URL, REDIS_URL, FIELD_ENCRYPTION_KEY, ALLOWED_HOSTS and
TEXTDESK_PUBLIC_URL; the sandbox is not installed there.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Development is asked for, never assumed: a deployment that forgot SECRET_KEY must not come
# up with DEBUG on, a published key and demo users.
DEBUG = env_bool("DEBUG", default=False)
# Service URLs (Text Request, ASMS) must be https://; plain http:// only to this machine's
# stand-ins in development (read here: test runners turn DEBUG off after the settings load).
TEXTDESK_ALLOW_HTTP_LOOPBACK = DEBUG
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set. For development on this machine set DEBUG=1 "
            "(`make run` and `make test` do)."
        )
    SECRET_KEY = "django-insecure-textdesk-development-only"  # noqa: S105

TEXTDESK_STATE_DIR = Path(os.environ.get("TEXTDESK_STATE_DIR", BASE_DIR / "var"))
TEXTDESK_STATE_DIR.mkdir(parents=True, exist_ok=True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "template_partials",
    "csp",
    "axes",
    # Two-factor sign-in: authenticator apps (TOTP) and recovery codes (static tokens).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Bottom to top (docs/architecture.md); imports only point down this list.
    "textdesk.outbox",
    "textdesk.audit",
    "textdesk.accounts",
    "textdesk.dashboards",
    "textdesk.contacts",
    "textdesk.payments",
    "textdesk.conversations",
    "textdesk.cases",
    "textdesk.webhooks",
    "textdesk.sync",
    "textdesk.reports",
    "textdesk.search",
]
if DEBUG:
    # The stand-ins for Text Request and ASMS (`manage.py sandbox serve`, `asms_sandbox`):
    # development and tests only.
    INSTALLED_APPS += ["standins.textrequest", "standins.asms"]


# Uploads are refused while they arrive, not after (textdesk/uploads.py); then Django's own.
FILE_UPLOAD_HANDLERS = [
    "textdesk.uploads.LimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "textdesk.accounts.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "textdesk.urls"
WSGI_APPLICATION = "textdesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "csp.context_processors.nonce",
                "textdesk.accounts.context_processors.navigation",
                "textdesk.conversations.context_processors.notifications",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{TEXTDESK_STATE_DIR / 'textdesk.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file in `make run`: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests get a file, not Django's in-memory default: with an in-memory database the live
    # server's thread shares the test thread's one connection, so a late webhook or a page still
    # polling would write into the middle of whatever transaction the test runner holds.
    # One file per test process (two runs in one checkout, or xdist's workers, never share it);
    # Django deletes it when the run ends.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"textdesk-test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(TEXTDESK_STATE_DIR / "cache"),
        }
    }

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Brute-force protection: lock a username from one address, for a while, never for good and
# never by address alone (a whole office shares one).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# How many proxies of ours stand in front of the web process (each appends to X-Forwarded-For).
TEXTDESK_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "textdesk.accounts.throttling.client_ip"
AXES_VERBOSE = False
# Two-factor (django-otp): the name authenticator apps show; after each wrong code the next
# try waits 1, 2, 4, … seconds (and wrong codes count toward the django-axes lock above).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "textdesk")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["textdesk.formats"]

STATIC_URL = "static/"
STATIC_ROOT = TEXTDESK_STATE_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security. HTTPS is assumed whenever DEBUG is off; a proxy in front sets X-Forwarded-Proto.
HTTPS = env_bool("TEXTDESK_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_AGE = 60 * 60 * 12  # a working day; staff re-authenticate daily
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # MMS media are served by Text Request's own storage (and, below, the API's origin: the
        # sandbox serves uploads over http); blob: is the composer's preview of a chosen file.
        "img-src": [SELF, "data:", "blob:", "https:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
    }
}

# API keys of Text Request connections are encrypted at rest with MultiFernet. Comma-separated
# Fernet keys, newest first; `manage.py textrequest rotate-keys` re-encrypts with the first one.
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "dGV4dGRlc2stZGV2ZWxvcG1lbnQtb25seS1rZXktMDE="
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY") or (
    [DEVELOPMENT_FIELD_ENCRYPTION_KEY] if DEBUG else []
)
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")

TEXTREQUEST_API_URL = os.environ.get("TEXTREQUEST_API_URL", "http://127.0.0.1:8001/api/v3")
TEXTREQUEST_API_KEY = os.environ.get("TEXTREQUEST_API_KEY", "")
if TEXTREQUEST_API_URL.startswith("http://"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(
        "/".join(TEXTREQUEST_API_URL.split("/", 3)[:3])  # its origin: scheme://host:port
    )
TEXTDESK_PUBLIC_URL = os.environ.get("TEXTDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Signed webhooks (README, "Webhook security"): a callback's timestamp may be this many seconds
# off; the key replaced by "Test and replace the key" still verifies this long afterwards.
TEXTDESK_WEBHOOK_WINDOW = int(os.environ.get("TEXTDESK_WEBHOOK_WINDOW", "300"))
TEXTDESK_WEBHOOK_KEY_GRACE = int(os.environ.get("TEXTDESK_WEBHOOK_KEY_GRACE", "3600"))
# A line's event subscriptions count as healthy this long after the periodic check found them.
TEXTDESK_HOOKS_FRESH = int(os.environ.get("TEXTDESK_HOOKS_FRESH", "2700"))
# Away replies (textdesk/conversations/away.py): at most one per contact in this many hours
# (across closed periods); a received text this many seconds after one of ours is taken for
# an auto-responder's answer and never answered (the loop guard).
TEXTDESK_AWAY_REPLY_CONTACT_HOURS = float(os.environ.get("TEXTDESK_AWAY_REPLY_CONTACT_HOURS", "12"))
TEXTDESK_AWAY_REPLY_LOOP_SECONDS = int(os.environ.get("TEXTDESK_AWAY_REPLY_LOOP_SECONDS", "60"))
# Share of each connection's window that background sync leaves for people, and seconds added
# to the provider's window to absorb clock skew and latency (see textdesk/textrequest/limiter.py).
TEXTDESK_RATE_LIMIT_SYNC_RESERVE = float(os.environ.get("TEXTDESK_RATE_LIMIT_SYNC_RESERVE", "0.1"))
TEXTDESK_RATE_LIMIT_HEADROOM = float(os.environ.get("TEXTDESK_RATE_LIMIT_HEADROOM", "1.0"))
# Timeouts of every Text Request call (seconds). They nest inside the Celery soft time limit.
TEXTREQUEST_CONNECT_TIMEOUT = float(os.environ.get("TEXTREQUEST_CONNECT_TIMEOUT", "3.05"))
TEXTREQUEST_READ_TIMEOUT = float(os.environ.get("TEXTREQUEST_READ_TIMEOUT", "15"))
# Reads an admin page waits on (free numbers for a new line) give up after this many seconds.
TEXTDESK_ADMIN_TIMEOUT = float(os.environ.get("TEXTDESK_ADMIN_TIMEOUT", "4"))
# How often beat runs the incremental cycle per line, and how long an outbound text whose
# outcome is unknown waits for proof (status callback or the contact's messages) before the
# outbox concludes it never reached Text Request and sends it again.
TEXTDESK_SYNC_INTERVAL = float(os.environ.get("TEXTDESK_SYNC_INTERVAL", "30"))
# A text or payment request whose outcome is unknown is never sent again by itself: after the
# grace a person is offered "send again"; proof (callback, webhook, read-back) is looked for
# until the horizon.
TEXTDESK_UNKNOWN_GRACE = float(os.environ.get("TEXTDESK_UNKNOWN_GRACE", "60"))
TEXTDESK_UNKNOWN_HORIZON = float(os.environ.get("TEXTDESK_UNKNOWN_HORIZON", str(24 * 3600)))
# The follow-up queue: open requests older than this many days without their reminder, and
# the pace of bulk reminders per account (a fifth of Text Request's 100 calls a minute).
TEXTDESK_FOLLOW_UP_DAYS = int(os.environ.get("TEXTDESK_FOLLOW_UP_DAYS", "3"))
TEXTDESK_BULK_REMINDERS_PER_MINUTE = int(os.environ.get("TEXTDESK_BULK_REMINDERS_PER_MINUTE", "20"))
# Open payments' states read every sync cycle (one call per line with open payments); off:
# every five minutes.
TEXTDESK_PAYMENT_FRESHNESS = env_bool("TEXTDESK_PAYMENT_FRESHNESS", default=True)
# Days the audit log keeps an entry; beat prunes older ones daily.
TEXTDESK_AUDIT_RETENTION_DAYS = int(os.environ.get("TEXTDESK_AUDIT_RETENTION_DAYS", "400"))
# An Available agent with no inbox open (no page, no live poll) this long goes Away (seconds).
TEXTDESK_AWAY_AFTER = int(os.environ.get("TEXTDESK_AWAY_AFTER", "900"))

# SLA alerts (textdesk/conversations/sla_alerts.py): "due soon" this many minutes before a
# clock runs out; a clock that ran out longer ago than the lookback (the policy was just set
# or tightened, beat was down) shows as Breached in the list but alerts nobody (no storm).
TEXTDESK_SLA_WARN_MINUTES = int(os.environ.get("TEXTDESK_SLA_WARN_MINUTES", "10"))
TEXTDESK_SLA_ALERT_LOOKBACK_MINUTES = int(
    os.environ.get("TEXTDESK_SLA_ALERT_LOOKBACK_MINUTES", "60")
)

# ASMS (the service desk): seconds on every call, inside the Celery soft limit.
ASMS_CONNECT_TIMEOUT = float(os.environ.get("ASMS_CONNECT_TIMEOUT", "3.05"))
ASMS_READ_TIMEOUT = float(os.environ.get("ASMS_READ_TIMEOUT", "15"))

# Celery: Redis when configured, otherwise kombu's filesystem transport, which needs no server
# and is shared by every process on this machine.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = TEXTDESK_STATE_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with atomic writes (textdesk/broker.py says why).
    CELERY_BROKER_TRANSPORT = "textdesk.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu polls a folder, and a worker whose prefetch is full (one task each, acks
        # late) sleeps a whole interval after every task: at kombu's 1 s a bulk batch ran at
        # a fifth of the sync allowance. An empty folder's listing costs microseconds.
        "polling_interval": float(os.environ.get("TEXTDESK_BROKER_POLLING_INTERVAL", "0.05")),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 150
CELERY_TASK_DEFAULT_QUEUE = "sync"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(TEXTDESK_STATE_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"redact_hooks": {"()": "textdesk.logs.RedactWebhookTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_hooks"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
