"""Where sessions live: Redis (Django's cache backend on its own alias and key prefix) when
REDIS_URL is set; the database otherwise (the demo) and in the tests."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CODE = ("import config.settings.base as s; "
        "print(getattr(s, 'SESSION_ENGINE', 'db'), getattr(s, 'SESSION_CACHE_ALIAS', '-'), "
        "s.CACHES.get('sessions', {}).get('KEY_PREFIX', '-'))")


def base_settings(**env) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    result = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, env=environ, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_sessions_are_in_redis_when_redis_is_configured():
    engine, alias, prefix = base_settings(REDIS_URL="redis://127.0.0.1:6379/15")
    assert engine == "django.contrib.sessions.backends.cache" and alias == "sessions"
    assert prefix == "libclasses-session"  # not the page cache's: clearing it logs nobody out


def test_sessions_stay_in_the_database_without_redis_and_in_the_tests():
    assert base_settings()[0] == "db"
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
