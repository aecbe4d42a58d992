"""The machinery of the fault suite: a Redis server of our own, a real Celery worker in a
subprocess, an SMTP handler that can refuse or hold a message, a row lock held from outside, and
bounded waits.

Nothing here sleeps for a fixed time to "let things happen": every wait polls a condition every
few milliseconds and fails with a clear message (and the worker's log) once its deadline passes.

The worker is started with ``python -m tests.faults.harness <worker options>``: the ``__main__``
block below loads ``config.settings.test``, applies the overrides the test passes in
``FAULTS_WORKER_SETTINGS`` (JSON: the SMTP server, lock timeout, outbox timings, the broker's
transport options) and then runs the ``celery`` command itself, ``celery --app config worker …``.
So the worker is the project's own Celery app and tasks with the test settings, pointed at the
test's servers, and no settings module needs a hook for it. The broker comes from
``CELERY_BROKER_URL`` in the environment, which Celery reads before any setting; the database from
``DATABASE_URL`` (the test database pytest-django created).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
#: The worker's settings overrides (JSON), read by the ``__main__`` block.
SETTINGS_ENV = "FAULTS_WORKER_SETTINGS"
POLL_SECONDS = 0.02


class WaitTimeout(AssertionError):
    """A bounded wait ran out: a bug in the code under test or in the test (never "slow")."""


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, poll: float = POLL_SECONDS,
             details: Callable[[], str] | None = None):
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` seconds pass
    (``WaitTimeout`` naming ``what``, with ``details()`` appended)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{details()}" if details else ""
            raise WaitTimeout(f"waited {timeout:.0f} s for {what}{extra}")
        time.sleep(poll)  # a condition in another process (DB, worker, Redis): poll it, bounded


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Redis ------------------------------------------------------------------------------------

class RedisServer:
    """A ``redis-server`` of the test's own on 127.0.0.1:``port``, without persistence (a
    restart loses every queued message, as a crashed cache server would)."""

    def __init__(self, executable: str, port: int, log_path: Path):
        self.executable = executable
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        """A plain client that answers at once (redis-py retries a refused connection for ~3 s by
        default)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=2,
                           retry=Retry(NoBackoff(), 0))

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except Exception:  # noqa: BLE001 - "not answering" is the answer
            return False

    def start(self, *, timeout: float = 10.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "redis-server already running"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                 "no", "--dir", str(self.log_path.parent)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_for(lambda: self.proc.poll() is not None or self.ping(), timeout=timeout, what="redis-server to answer")
        if self.proc.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.proc.returncode}:\n{self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """Stop it hard (SIGKILL): its queues are gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        wait_for(lambda: not self.ping(), timeout=5, what="redis-server to stop answering")

    def queue_length(self, queue: str = "celery") -> int:
        with self.client() as client:
            return int(client.llen(queue))

    def unacked(self) -> int:
        with self.client() as client:
            return int(client.hlen("unacked"))


# --- Celery -----------------------------------------------------------------------------------

def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL (django-environ) for the database Django is using right now (in a test:
    the test database pytest-django created)."""
    quote = urllib.parse.quote
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


SUCCEEDED = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] succeeded in [\d.e-]+s: (?P<value>.*)$", re.M)
FAILED = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] (?:raised unexpected|retry)", re.M)


class Worker:
    """``celery worker`` (the project's app, prefork pool) in its own process group."""

    def __init__(self, *, name: str, broker_url: str, database_url: str, settings: dict, log_path: Path,
                 tmp_dir: Path, concurrency: int = 2):
        self.nodename = f"{name}@faults"
        self.broker_url = broker_url
        self.database_url = database_url
        self.settings = settings
        self.log_path = log_path
        self.tmp_dir = tmp_dir
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_BROKER_URL": self.broker_url,
            "DATABASE_URL": self.database_url,
            SETTINGS_ENV: json.dumps(self.settings),
            "TMPDIR": str(self.tmp_dir),  # the test settings' mkdtemp() folders land in the test's tmp_path
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_BROKER_WRITE_URL", None)
        env.pop("CELERY_BROKER_READ_URL", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.harness", "--hostname", self.nodename, "--pool", "prefork",
                 "--concurrency", str(self.concurrency), "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat"],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, chars: int = 4000) -> str:
        return f"--- worker log ({self.log_path}) ---\n{self.log()[-chars:]}"

    def wait_ready(self, app, *, timeout: float = 40.0) -> None:
        """Until the worker answers a control ping through the broker (it consumes by then)."""

        def answered():
            if not self.alive:
                raise AssertionError(f"the worker exited with {self.proc.returncode}\n{self.tail()}")
            return self.ping(app)

        wait_for(answered, timeout=timeout, what=f"worker {self.nodename} to answer a ping", details=self.tail)

    def ping(self, app) -> bool:
        """Whether the worker answers a control ping through the broker. A broker connection of
        this process that broke (Redis restarted) counts as no answer: the next try reconnects."""
        try:
            return bool(app.control.ping(destination=[self.nodename], timeout=0.5))
        except broker_errors(app):
            return False

    def reconnected_or_exited(self, app, *, timeout: float = 45.0) -> str:
        """After the broker came back: ``"reconnected"`` once the worker answers a ping again, or
        ``"exited"`` if its process ended meanwhile."""

        def settled():
            if not self.alive:
                return "exited"
            return "reconnected" if self.ping(app) else None

        return wait_for(settled, timeout=timeout, what=f"worker {self.nodename} to reconnect or exit",
                        details=self.tail)

    def results(self, task_id: str) -> list[str]:
        """The return values the worker logged for ``task_id`` (one per successful run)."""
        return [m["value"] for m in SUCCEEDED.finditer(self.log()) if m["id"] == task_id]

    def wait_succeeded(self, task_id: str, *, timeout: float = 30.0) -> str:
        """Until the worker logs that ``task_id`` succeeded; the return value it logged (of the
        first run, should the broker have handed the task out more than once)."""

        def done():
            log = self.log()
            failed = [m for m in FAILED.finditer(log) if m["id"] == task_id]
            if failed:
                raise AssertionError(f"task {task_id} failed in the worker\n{self.tail()}")
            return self.results(task_id)

        return wait_for(done, timeout=timeout, what=f"task {task_id} to succeed", details=self.tail)[0]

    def idle(self, app) -> bool:
        """No task running or reserved (asked through the broker)."""
        inspect = app.control.inspect(destination=[self.nodename], timeout=2.0, limit=1)
        try:
            active, reserved = inspect.active(), inspect.reserved()
        except broker_errors(app):
            return False
        if not active or not reserved:  # no answer
            return False
        return not active.get(self.nodename) and not reserved.get(self.nodename)

    def kill(self) -> None:
        """SIGKILL the whole process group (the main process and its pool children): no
        warm shutdown, no acks, no clean-up — a power cut for this worker."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        wait_for(lambda: not _group_alive(self.proc.pid), timeout=10, what="the killed worker's processes to go")

    def stop(self, *, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM: finish running tasks), then SIGKILL if it takes too long."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # the main process only: it shuts its pool down itself
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if _group_alive(self.proc.pid):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self.proc.poll() is None:
                self.proc.wait(timeout=10)
            wait_for(lambda: not _group_alive(self.proc.pid), timeout=10, what="the worker's processes to go")


def broker_errors(app) -> tuple:
    """The exceptions that mean "the broker connection broke" for ``app``'s transport."""
    with app.connection_for_write() as conn:
        return tuple(conn.connection_errors)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies still count: only their parent (gone) or init reaps them. /proc tells them apart.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


# --- SMTP -------------------------------------------------------------------------------------

class FaultySmtpHandler:
    """An SMTP server's behaviour: accepts and keeps every message (parsed), except

    - while ``refusing`` is set, every recipient is answered ``451 4.3.0`` (try again later);
    - a message whose recipient matches ``hold_for`` is held after its DATA, without a reply,
      until ``release`` is set (``holding`` is set meanwhile). If the client is gone by then (its
      process was killed), the message is dropped, as a real MTA drops a transaction whose
      client vanished before the final reply.
    """

    REFUSAL = "451 4.3.0 Mail system busy, try again later"

    def __init__(self):
        self.port = 0  # set by the fixture that starts the server
        self.messages: list = []
        self.refusing = threading.Event()
        self.refused = 0
        self.hold_for: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.dropped = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if self.refusing.is_set():
            with self._lock:
                self.refused += 1
            return self.REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import asyncio
        import email
        from email import policy

        if self.hold_for and self.hold_for in envelope.rcpt_tos and not self.release.is_set():
            self.holding.set()
            try:
                while not self.release.is_set() and server.transport is not None:
                    await asyncio.sleep(POLL_SECONDS)
            except asyncio.CancelledError:  # aiosmtpd cancels the handler when the client is gone
                with self._lock:
                    self.dropped += 1
                raise
            if server.transport is None:
                with self._lock:
                    self.dropped += 1
                return "451 4.3.0 Connection lost"
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]) for m in self.messages]


# --- a row lock held from outside -------------------------------------------------------------

class RowLock:
    """``SELECT … FOR UPDATE`` on one row, held in a transaction on a connection of its own (not
    Django's), as a staff member's long request would: whoever needs the row waits for it."""

    def __init__(self, settings_dict: dict, table: str, pk: int):
        import psycopg

        self.conn = psycopg.connect(
            dbname=settings_dict["NAME"], user=settings_dict.get("USER") or None,
            password=settings_dict.get("PASSWORD") or None, host=settings_dict.get("HOST") or "127.0.0.1",
            port=settings_dict.get("PORT") or None, autocommit=False,
        )
        self.pid = self.conn.info.backend_pid
        with self.conn.cursor() as cur:
            cur.execute(f'SELECT id FROM "{table}" WHERE id = %s FOR UPDATE', [pk])  # noqa: S608 - our table name
            assert cur.fetchone() is not None, f"no row {table} {pk}"

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def lock_waiters() -> list[int]:
    """PostgreSQL sessions (pids) of this database waiting for a lock right now (read live from
    ``pg_stat_activity``, not from a transaction's snapshot)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return [row[0] for row in cur.fetchall()]


def other_sessions() -> list[int]:
    """PostgreSQL sessions (pids) of this database other than the test's own connection."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cur.fetchall()]


# --- the worker's entry point -------------------------------------------------------------------

def _worker_main(argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    from django.conf import settings

    for name, value in json.loads(os.environ.get(SETTINGS_ENV, "{}")).items():
        setattr(settings, name, value)
    # The ``celery`` command itself (it exits with the worker's status: 1 after a crash).
    from celery.__main__ import main

    sys.argv = ["celery", "--app", "config", "worker", *argv]
    main()


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
