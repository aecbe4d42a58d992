"""Settings for the test suite. DATABASE_URL picks PostgreSQL (CI) or SQLite (default)."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="libclasses-media-"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in memory
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="libclasses-static-"))  # WhiteNoise wants it to exist
# Tests never talk to a broker by accident: tasks queued with .delay() go to kombu's in-memory
# transport. Suites that need the real thing (a Celery worker on Redis) set their own.
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
# Each test process has its own cache (never the shared Redis of CI, which other runs use too);
# tests/conftest.py empties it around every test, so throttles never carry over.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "libclasses-test"}}
# Sessions in the test database, as in the demo (base.py puts them in Redis when REDIS_URL is set).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
