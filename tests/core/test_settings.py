import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_check_passes_with_production_settings():
    env = {
        k: v for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="deploy-check-" + "x7Q" * 20,
        ALLOWED_HOSTS="classes.library.example",
        SITE_URL="https://classes.library.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
        PYTHONWARNINGS="error",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_wants_a_shared_cache_for_several_web_processes():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="deploy-check-" + "x7Q" * 20,
               ALLOWED_HOSTS="classes.library.example", SITE_URL="https://classes.library.example")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "core.W001" in result.stdout + result.stderr


def test_redis_url_makes_the_cache_redis():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", REDIS_URL="redis://127.0.0.1:6379/0")
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().endswith("RedisCache"), result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="classes.library.example",
               SITE_URL="https://classes.library.example")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_program_time_zone_and_money_defaults():
    assert settings.TIME_ZONE == "America/Chicago"
    assert settings.USE_TZ is True


def test_gunicorn_listens_only_where_the_proxy_can_reach_it():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "FORWARDED_ALLOW_IPS"))}
    code = ("import runpy; c = runpy.run_path('config/gunicorn.conf.py'); "
            "print(c['bind'], c['forwarded_allow_ips'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["127.0.0.1:8000", "127.0.0.1"], result.stderr
    readme = (ROOT / "README.md").read_text()
    assert "0.0.0.0" not in readme.replace("Never bind `0.0.0.0`", "")
    assert "gunicorn -c config/gunicorn.conf.py config.wsgi" in readme
