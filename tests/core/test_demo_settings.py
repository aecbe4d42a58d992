"""The demo as a fresh clone runs it (``config.settings.local``, a brand-new ``VAR_DIR``, no Redis):
``seed_demo`` before anything made ``var/broker/`` logs no traceback, a missing page is the
project's own 404 (never Django's debug page listing every URL pattern), an error is the
project's 500 page, and static files (ours and Bootstrap's) are still served. (Uploaded media —
venue maps — have no public URL: e-mails attach them, the back office shows them inline.)

Each test runs real processes against a temporary ``VAR_DIR`` migrated once for the module.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "REDIS_URL", "DATABASE_URL", "MEDIA_ROOT", "EMAIL_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(var_dir))
    return env


def _run(args: list[str], var_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(var_dir), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory) -> Path:
    """A fresh clone's ``var/``: only the database, migrated (nothing made ``var/broker/``)."""
    path = tmp_path_factory.mktemp("fresh-var")
    result = _run(["manage.py", "migrate", "--noinput"], path)
    assert result.returncode == 0, result.stderr
    return path


def test_seed_demo_on_a_fresh_var_dir_logs_no_traceback(var_dir):
    result = _run(["manage.py", "seed_demo"], var_dir)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    assert " ERROR " not in result.stderr, result.stderr[-3000:]
    # The messages it queued were handed to the broker's folder, ready for the worker.
    assert any((var_dir / "broker" / "queue").iterdir())


CLIENT_SCRIPT = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import path
    import config.urls

    def boom(request):
        raise RuntimeError("a bug")

    config.urls.urlpatterns.append(path("__boom__/", boom))
    client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
    out = {"debug": settings.DEBUG}
    for key, url in [("missing", "/no-such-page/"), ("boom", "/__boom__/"),
                     ("static", "/static/css/site.css"), ("bootstrap", "/static/bootstrap/css/bootstrap.min.css")]:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        out[key] = {"status": response.status_code, "body": body.decode("utf-8", "replace")[:20000]}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def answers(var_dir) -> dict:
    import json

    result = _run(["-c", CLIENT_SCRIPT], var_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_demo_shows_the_projects_own_404_page(answers):
    missing = answers["missing"]
    assert missing["status"] == 404
    assert "<h1>Page not found</h1>" in missing["body"]
    assert "URLconf" not in missing["body"] and "Using the URLconf" not in missing["body"]
    assert "staff/rosters/" not in missing["body"]


def test_the_demo_shows_the_projects_own_500_page(answers):
    boom = answers["boom"]
    assert boom["status"] == 500
    assert "<h1>Something went wrong</h1>" in boom["body"]
    assert "Traceback" not in boom["body"] and "RuntimeError" not in boom["body"]


def test_the_demo_still_serves_static_files(answers):
    assert answers["static"]["status"] == 200
    assert ".site-header" in answers["static"]["body"]
    assert answers["bootstrap"]["status"] == 200
