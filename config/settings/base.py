"""Settings shared by every environment.

Everything that differs between a laptop demo and a production install comes from environment
variables (django-environ). The embedded defaults need no server at all: SQLite under ``var/``,
Celery on kombu's filesystem broker under ``var/``, e-mail written to ``var/mail/``.
Options that staff change day to day (cutoff days, hold minutes, texts) live in the database,
not here.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-demo-key-change-me-in-production-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # Bootstrap's CSS/JS from the django-bootstrap-static package, served by us
    "core",
    "instructors",
    "classes",
    "enrollment",
    "finance",
    "reports",
    "axes",  # staff login lockout: attempts, lockouts and their admin pages (see "Staff login" below)
]

#: No page's address goes to another site in a Referer header (links to maps and Stripe).
SECURE_REFERRER_POLICY = "same-origin"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "core.headers.PermissionsPolicyMiddleware",  # Permissions-Policy (PERMISSIONS_POLICY below)
    # Above everything that touches the database: an outage anywhere below → the 503 page (with the headers above).
    "core.outage.DatabaseOutageMiddleware",
    "core.memo.RequestMemoMiddleware",  # the one-row options read once per request (core.memo)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.outage.SessionMiddleware",  # Django's, but a session save that fails in an outage → 503, not 400
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: answers a locked-out login
]

ROOT_URLCONF = "config.urls"

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
                "core.context_processors.site",
                "enrollment.context_processors.cart",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------------------------
# SQLite by default (a demo needs no server); production sets DATABASE_URL to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock up front, so concurrent writers queue
    # instead of failing half way; the timeout is how long a writer waits for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# How long a request waits for a row lock before answering "busy, please try again".
DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=3000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Staff login: django-axes locks out after repeated failures --------------------------------
# AxesStandaloneBackend refuses a locked-out login before ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)  # failures before a lockout
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours; then the counter starts over
# Locked out per user name (whatever the address) and per client address (whatever the name).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True  # a right password clears that user's failures
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the
# outermost of them saw (core.client_ip; the /my/ throttle uses the same).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"

# --- Cache: Redis when REDIS_URL is set (shared by every web process: the /my/ throttle counts
# across gunicorn workers and machines), else local memory (the one-process demo) ----------------
if env.str("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": env.str("REDIS_URL"), "KEY_PREFIX": "libclasses"},
              # Sessions (the cart, its checkout nonce, the hour-long grants to an order's and a
              # gift's pages, staff logins): their own alias and key prefix, so clearing the page
              # cache never logs anyone out. Django's cache session backend, not cached_db: every
              # checkout step *writes* the session (cart, nonce, grant), and cached_db would still
              # write each one to PostgreSQL. What a Redis restart without persistence costs: carts
              # are emptied, patrons part-way through are asked to open their order again from the
              # e-mailed link (held seats stay held until they run out; a card payment still
              # confirms through the webhook), staff log in again. No seat, payment or message is
              # lost — those live in PostgreSQL. Run Redis with AOF/RDB persistence to keep them.
              "sessions": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                           "LOCATION": env.str("REDIS_URL"), "KEY_PREFIX": "libclasses-session"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    SESSION_CACHE_ALIAS = "sessions"
else:  # the one-process demo: sessions stay in the database (Django's default), the cache in memory
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "libclasses"}}

# --- Content-Security-Policy (django-csp 4) and Permissions-Policy ------------------------------
# Only our own scripts, styles, fonts and frames; no inline script or style anywhere (templates
# use static files and classes). The payment pages add exactly the origins Stripe.js needs
# (finance.gateway.stripe_csp: Stripe's, or localstripe's at STRIPE_API_BASE in the demo/tests).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # data: for the venue map preview and the empty favicon
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features no page uses are off (core.headers); "payment" is allowed to Stripe's frames on
# the payment pages only.
PERMISSIONS_POLICY = {
    "camera": [], "microphone": [], "geolocation": [], "payment": [], "usb": [], "serial": [],
    "hid": [], "magnetometer": [], "gyroscope": [], "accelerometer": [],
    "display-capture": [], "browsing-topics": [],
}

# --- Time and language ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

# --- Static files: our own under static/, Bootstrap from its package; whitenoise serves both --
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail: files under var/mail/ by default, SMTP when EMAIL_URL is set --------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Library Classes <classes@library.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# --- Celery: Redis when REDIS_URL is set, else kombu's filesystem broker under var/ ----------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
    }
    # The app makes the folders it needs: on a fresh clone the first message queued (seed_demo,
    # before anything else ran) would otherwise fail to reach the broker.
    for _folder in ("queue", "processed", "control"):
        (_broker / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish that fails (broker down) gives up fast: the outbox and the periodic sweeps re-queue the
# work, so a request never waits seconds per message for a broker that is away.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    # Re-queue outbox messages left pending (lost task, broker restart, retry due): core.outbox.
    "outbox-sweep": {"task": "core.outbox_sweep", "schedule": 60.0},
    # Release holds and waitlist offers that ran out, then offer the seats to the waitlist.
    "holds-expire": {"task": "enrollment.holds_expire", "schedule": 60.0},
    # Retry card refunds whose Stripe call failed; settle cancellations never settled.
    "refunds-sweep": {"task": "finance.refunds_sweep", "schedule": 300.0},
    # Settle the price difference of transfers whose settlement did not run.
    "transfers-sweep": {"task": "finance.transfers_sweep", "schedule": 300.0},
    # Return scholarship awards of cancelled registrations and courses to Pass the Buck.
    "fund-returns-sweep": {"task": "finance.fund_returns_sweep", "schedule": 300.0},
    # The week-out run: decide every open course whose cutoff has passed (runs or cancelled and
    # refunded), once per course (enrollment.services.weekout).
    "week-out": {"task": "enrollment.week_out", "schedule": 600.0},
    # Low-enrollment nudges, nudge_days before the cutoff, once per registration.
    "nudges": {"task": "enrollment.nudges", "schedule": 3600.0},
    # A running course whose last meeting has ended becomes completed (evaluations and instructor
    # pay hang on it): enrollment.services.completion.
    "courses-complete": {"task": "enrollment.courses_complete", "schedule": 900.0},
}

# --- Outbox delivery (core.outbox) ------------------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=12)  # temporary failures, then "failed"
OUTBOX_BACKOFF_BASE_SECONDS = 60  # wait after the n-th failure: base * 2**(n-1) …
OUTBOX_BACKOFF_MAX_SECONDS = 3600  # … at most an hour
OUTBOX_SWEEP_GRACE_SECONDS = 60  # a never-tried message is left to its own task this long

# --- Stripe (issue: checkout). No keys → the local fake (localstripe) for the demo. -----------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")

# --- Logging: counts and ids only; never names or e-mail addresses (library privacy norms) ----
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "stripe": {"level": "WARNING"}},
}

# The site's public address, for links in e-mail (no request is at hand when a task sends them).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
