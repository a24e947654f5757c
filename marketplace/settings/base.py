"""Settings shared by every environment. Each knob is one environment variable, documented in
the README; the defaults here are safe for development and point at the embedded stack that
`make run` starts (see `marketplace.devstack`)."""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab

from marketplace import devstack

# Lets annotations such as ModelAdmin[Listing] run, not only type-check.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# A development-only default; production settings refuse to start without SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-development-only-key-do-not-use-in-production-7f3a9")
# The site's public address, for links in emails sent outside a request (alerts, reminders).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "allauth",
    "allauth.account",
    "marketplace",
    "accounts",
    "listings",
    "verification",
    "escrow",
    "filings",
    "sandbox_registry",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"

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

# --- Database: PostgreSQL through psycopg 3 with Django's connection pool ------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=devstack.EMBEDDED_DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
    }
# Django turns psycopg's statement preparation off (prepare_threshold None), which also refuses the
# few queries marketplace.db prepares on purpose. Django's own cursors bind on the client and are
# never prepared whatever this is; set this high, it prepares nothing by itself.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
# The test database's name: a suffix lets two suites share one server without colliding.
DATABASES["default"]["TEST"] = {"NAME": env("DATABASE_TEST_NAME", default="test_marketplace")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default=devstack.EMBEDDED_REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "marketplace",
    }
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
# Celery 5.7's Django fixup closes Django's connection pool at every task boundary of a prefork
# worker (celery/celery#10554), so that each task opened new PostgreSQL connections. With this
# set it leaves them for this many tasks (it still closes the pool a child inherits at fork), and
# marketplace/celery.py hands each task's connection back to the pool, as Django does per request.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "listings-alerts": {"task": "listings.alerts_send", "schedule": timedelta(minutes=15)},
    "escrow-offers-expire": {"task": "escrow.offers_expire", "schedule": timedelta(minutes=15)},
    "escrow-deals-cancel-unpaid": {"task": "escrow.deals_cancel_unpaid", "schedule": timedelta(minutes=15)},
    "escrow-margin-deposits-settle": {"task": "escrow.margin_deposits_settle", "schedule": timedelta(hours=1)},
    "verification-recheck-slot": {"task": "verification.recheck_slot", "schedule": timedelta(minutes=15)},
    "verification-deadline-alerts": {"task": "verification.deadline_alerts", "schedule": crontab(hour=6, minute=0)},
    # Reconciles the previous UTC day with Stripe's balance transactions.
    "escrow-stripe-reconcile-daily": {"task": "escrow.stripe_reconcile_daily", "schedule": crontab(hour=3, minute=30)},
}

# --- Accounts: email login with mandatory verification (django-allauth) ---------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env.int("ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS", default=3)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Sign-up must say plainly that an email is taken (the product's choice over enumeration
# resistance; login and password reset still reveal nothing).
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[IP Marketplace] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_SESSION_REMEMBER = None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"

# --- Email ------------------------------------------------------------------------------------
# consolemail:// prints every message in the `make run` console; smtp+tls://user:pass@host:587
# sends for real.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="IP Marketplace <no-reply@ip-marketplace.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_RATES": {"anon": "120/minute", "user": "600/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IP Marketplace API",
    "DESCRIPTION": (
        "Patents, trademarks and copyrights: listings verified against the offices' registers, "
        "bought through escrow and transferred by recordation. Authenticate with a session or "
        "`Authorization: Token <key>` (create keys on your profile page)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # One name per lifecycle's set of states, however many fields use it.
    "ENUM_NAME_OVERRIDES": {
        "DealStateEnum": "escrow.models.deals.DealState",
        "OfferStateEnum": "escrow.models.deals.OfferState",
        "ListingStateEnum": "listings.models.listings.ListingState",
        "DealTypeEnum": "listings.models.listings.DealType",
    },
}

# --- Stripe -------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_localstripe")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_localstripe")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_localstripe")
# Empty means Stripe itself; development and tests point the SDK at localstripe.
STRIPE_API_BASE = env("STRIPE_API_BASE", default=devstack.EMBEDDED_STRIPE_API_BASE)
# Stripe.js for the card forms: localstripe serves a stand-in, so the card form works offline.
STRIPE_JS_URL = env(
    "STRIPE_JS_URL", default=f"{STRIPE_API_BASE}/js.stripe.com/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/"
)

# --- Offers and deals ------------------------------------------------------------------------------
OFFER_TTL_DAYS = env.int("OFFER_TTL_DAYS", default=7)
DEAL_PAYMENT_DAYS = env.int("DEAL_PAYMENT_DAYS", default=5)
# (connect, read) timeouts of calls to Stripe.
STRIPE_TIMEOUT_SECONDS = (
    env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=5.0),
    env.float("STRIPE_READ_TIMEOUT_SECONDS", default=30.0),
)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

# --- Listings -----------------------------------------------------------------------------------
# Whether an approved listing waits for the seller's margin deposit before it is published.
LISTING_MARGIN_REQUIRED = env.bool("LISTING_MARGIN_REQUIRED", default=False)
LISTING_DOCUMENT_MAX_BYTES = env.int("LISTING_DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)
# Portfolio imports: the largest CSV file, and the most rows one file may hold.
LISTING_IMPORT_MAX_BYTES = env.int("LISTING_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
LISTING_IMPORT_MAX_ROWS = env.int("LISTING_IMPORT_MAX_ROWS", default=50_000)

# --- Verification against the registers ---------------------------------------------------------
# A right needs at least this much term left to pass.
VERIFICATION_MIN_TERM_MONTHS = env.int("VERIFICATION_MIN_TERM_MONTHS", default=12)
# Owner-name similarity (0 to 1) at or above which a name passes; anything lower goes to review.
VERIFICATION_NAME_MATCH_THRESHOLD = env.float("VERIFICATION_NAME_MATCH_THRESHOLD", default=1.0)
# Days before a fee or renewal deadline at which owners are warned.
VERIFICATION_DEADLINE_WARNING_DAYS = env.list("VERIFICATION_DEADLINE_WARNING_DAYS", cast=int, default=[90, 30, 7])
# Published listings are re-checked once a day, spread over this many slots.
VERIFICATION_RECHECK_SLOTS = env.int("VERIFICATION_RECHECK_SLOTS", default=96)
VERIFICATION_RETRY_BASE_SECONDS = env.int("VERIFICATION_RETRY_BASE_SECONDS", default=30)

# --- The offices' registers ----------------------------------------------------------------------
# Development and tests default to the sandbox registry that `make run` starts; production
# defaults to the real services.
SANDBOX_REGISTRY_URL = env("SANDBOX_REGISTRY_URL", default=devstack.EMBEDDED_SANDBOX_REGISTRY_URL)
USPTO_ODP_BASE_URL = env("USPTO_ODP_BASE_URL", default=f"{SANDBOX_REGISTRY_URL}/uspto-odp")
USPTO_ODP_API_KEY = env("USPTO_ODP_API_KEY", default="sandbox")
USPTO_TSDR_BASE_URL = env("USPTO_TSDR_BASE_URL", default=f"{SANDBOX_REGISTRY_URL}/tsdr")
USPTO_TSDR_API_KEY = env("USPTO_TSDR_API_KEY", default="sandbox")
USPTO_ASSIGNMENT_BASE_URL = env("USPTO_ASSIGNMENT_BASE_URL", default=f"{SANDBOX_REGISTRY_URL}/uspto-assignment")
EUIPO_BASE_URL = env("EUIPO_BASE_URL", default=f"{SANDBOX_REGISTRY_URL}/euipo")
EUIPO_CLIENT_ID = env("EUIPO_CLIENT_ID", default="sandbox")
EUIPO_CLIENT_SECRET = env("EUIPO_CLIENT_SECRET", default="sandbox")
EPO_OPS_BASE_URL = env("EPO_OPS_BASE_URL", default=f"{SANDBOX_REGISTRY_URL}/epo-ops")
EPO_OPS_CONSUMER_KEY = env("EPO_OPS_CONSUMER_KEY", default="sandbox")
EPO_OPS_CONSUMER_SECRET = env("EPO_OPS_CONSUMER_SECRET", default="sandbox")
# Empty means EUIPO_BASE_URL + /oidc/accessToken (the sandbox); the real endpoint is on another host.
EUIPO_TOKEN_URL = env("EUIPO_TOKEN_URL", default="")
# Per-office overrides of verification.registries.http.OfficePolicy fields, as JSON, e.g. against
# the sandbox: {"tsdr": {"min_interval": 0}, "uspto_odp": {"min_interval": 0}}
REGISTRY_HTTP_POLICIES: dict[str, dict[str, float]] = env.json("REGISTRY_HTTP_POLICIES", default={})
# A Redis lock and shared pacing across worker processes (the USPTO ODP allows no parallel requests).
REGISTRY_REDIS_LOCKS = env.bool("REGISTRY_REDIS_LOCKS", default=True)
# The sandbox registry is read without the offices' pacing and one-at-a-time locks (their published
# limits are theirs, not the sandbox's), for offices whose base URL is under SANDBOX_REGISTRY_URL
# only: an office read at its real address keeps its limits whatever this says.
SANDBOX_REGISTRY_UNPACED = env.bool("SANDBOX_REGISTRY_UNPACED", default=True)

# --- Shared public data (registry responses, catalogues, classification tables) ----------------
SHARED_DATA_DIR = env.path("SHARED_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data"))

# --- Internationalisation, static and media files ----------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / ".local" / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".local" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
