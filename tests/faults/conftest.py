"""Fixtures of the fault suite: PostgreSQL (the worker shares the test database), a Redis server
of the test's own, an SMTP server (aiosmtpd) with faults, and real Celery workers.

Each test gets fresh servers: its own ``redis-server`` on a free port (never the shared one on
6379, which the test restarts in one case and which other runs may use), an aiosmtpd server, and
workers started on demand (``start_worker``) that are stopped before pytest-django empties the
database. The test process sends through the same Redis (``celery_app``), so ``.delay()`` — and
the outbox's ``on_commit`` delivery — reaches the worker.
"""

import uuid

import pytest

from tests.servers import need, require_executable, require_postgres
from tests.smtp_server import SmtpServer

from .harness import FaultySmtpHandler, RedisServer, Worker, database_url, free_port


@pytest.fixture(autouse=True)
def _postgres():
    """The worker and the test share one database: PostgreSQL, with real row locks."""
    require_postgres()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(require_executable("redis-server"), free_port(), tmp_path / "redis.log")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def smtp_handler():
    """An aiosmtpd server on a free port with a ``FaultySmtpHandler`` (its ``port`` attribute)."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError:
        need(False, "the aiosmtpd package (pip install -e '.[dev]')")
    server = SmtpServer(free_port())
    handler = FaultySmtpHandler()
    server.start(handler)
    handler.port = server.port
    yield handler
    handler.release.set()  # nothing stays held while the server stops
    server.stop()


def _reset_broker_pools(app) -> None:
    """Forget the app's broker connections (the next ``.delay()`` connects to the broker the
    environment names now)."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def celery_app(redis_server, monkeypatch):
    """The project's Celery app, sending to the test's Redis (Celery reads
    ``CELERY_BROKER_URL`` from the environment before any setting); back to the test settings'
    in-memory broker afterwards."""
    from config.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)
    _reset_broker_pools(app)
    assert app.conf.broker_url == redis_server.url
    yield app
    _reset_broker_pools(app)


@pytest.fixture
def lock_timeout(settings):
    """Runners queue on a course row held by the test for a while: nobody gives up with Busy."""
    settings.DB_LOCK_TIMEOUT_MS = 30_000
    return settings.DB_LOCK_TIMEOUT_MS


@pytest.fixture
def start_worker(transactional_db, celery_app, redis_server, smtp_handler, lock_timeout, tmp_path):
    """``start_worker(**settings)``: a real ``celery worker`` (prefork, 2 processes) on the test's
    Redis, database and SMTP server, ready when returned; stopped (warm, then SIGKILL) at the end.
    Keyword arguments override settings in the worker (``OUTBOX_BACKOFF_BASE_SECONDS=1``)."""
    from django.db import connection

    started: list[Worker] = []
    base = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp_handler.port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
        "DB_LOCK_TIMEOUT_MS": lock_timeout,
    }

    def start(**overrides) -> Worker:
        name = f"w{len(started) + 1}-{uuid.uuid4().hex[:6]}"
        worker = Worker(name=name, broker_url=redis_server.url, database_url=database_url(connection.settings_dict),
                        settings={**base, **overrides}, log_path=tmp_path / f"worker-{len(started) + 1}.log",
                        tmp_dir=tmp_path / "worker-tmp")
        started.append(worker)
        worker.start()
        worker.wait_ready(celery_app)
        return worker

    yield start
    for worker in started:
        worker.stop()
