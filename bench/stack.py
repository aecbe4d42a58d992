"""The stack, started as production would run it, on free ports, and stopped at the end (also on
Ctrl-C or a failure): a PostgreSQL database of its own (created, then dropped), Redis db 6 (flushed),
gunicorn with ``config/gunicorn.conf.py`` and the production settings, one Celery worker,
localstripe with a private in-memory store, and an SMTP sink (aiosmtpd, in this process)."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))

# localstripe runs as the project runs it (config.localstripe): its store in memory only, never
# the fixed /tmp/localstripe.pickle that every localstripe on the machine would share.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, timeout: float = 60.0, headers: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.1)  # polling a starting server, bounded by the deadline


class SmtpSink:
    """An SMTP server that accepts everything and counts messages per recipient."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.per_rcpt: Counter = Counter()
        self.total = 0
        self.sample = b""  # the first message since the last reset, as received
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message_from_bytes(envelope.content)  # parsed, as a real server would
        with self.lock:
            self.total += 1
            if not self.sample:
                self.sample = envelope.original_content or envelope.content
            for rcpt in envelope.rcpt_tos:
                self.per_rcpt[rcpt.lower()] += 1
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.per_rcpt.clear()
            self.total = 0
            self.sample = b""

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()


class Stack:
    def __init__(self, *, name: str = "lc_bench_run"):
        self.db_name = name
        self.tmp = Path(tempfile.mkdtemp(prefix="lc-bench-"))
        self.web_port, self.stripe_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.smtp = SmtpSink()
        self.webhook_secret = "whsec_bench_" + secrets.token_hex(8)
        self.env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SITE_URL": f"https://127.0.0.1:{self.web_port}",
            "DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + "/" + name,
            "REDIS_URL": REDIS,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp.port}",
            "VAR_DIR": str(self.tmp / "var"),
            "STRIPE_SECRET_KEY": "sk_test_localstripe",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe",
            "STRIPE_API_BASE": f"http://127.0.0.1:{self.stripe_port}",
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
            "GUNICORN_WORKERS": str(WORKERS),
            "SECURE_HSTS_PRELOAD": "false",
        }

    # --- the pieces ---------------------------------------------------------------------------
    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(sql)

    def _redis_flush(self) -> None:
        import redis

        redis.Redis.from_url(REDIS).flushdb()

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115 (kept open while the process runs)
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **self.env, **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**os.environ, **self.env},
                       check=True, stdout=subprocess.DEVNULL)

    def start(self) -> "Stack":
        (self.tmp / "var").mkdir()
        self._admin(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {self.db_name}")
        self._redis_flush()
        self.smtp.start()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self._spawn("localstripe", [sys.executable, "-m", "config.localstripe", "--port", str(self.stripe_port)])
        self._spawn("gunicorn", [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"])
        self._spawn("celery", [str(BIN / "celery"), "--app", "config", "worker", "--loglevel", "WARNING",
                               "--concurrency", "2"])
        wait_http(f"http://127.0.0.1:{self.stripe_port}/js.stripe.com/v3/")
        wait_http(self.base_url + "/healthz", headers={"X-Forwarded-Proto": "https"})
        return self

    def restart_celery(self) -> None:
        self._stop_one("celery")
        self._spawn("celery", [str(BIN / "celery"), "--app", "config", "worker", "--loglevel", "WARNING",
                               "--concurrency", "2"])

    def _stop_one(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(5)

    def stop(self) -> None:
        for name in list(self.procs):
            self._stop_one(name)
        try:
            from django.db import connections

            connections.close_all()  # this process's own, before the database is dropped
        except Exception:  # noqa: BLE001 (Django may not be set up yet)
            pass
        try:
            self.smtp.stop()
        except Exception:  # noqa: BLE001 (stopping what may not have started)
            pass
        for step in (lambda: self._admin(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)"), self._redis_flush):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 (clean-up goes on)
                print(f"bench: clean-up step failed: {exc}", file=sys.stderr)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"bench: logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- measuring the web workers ---------------------------------------------------------------
    def web_cpu_seconds(self) -> float:
        """User + system CPU time of gunicorn's workers (children of the master), from /proc."""
        master = self.procs["gunicorn"].pid
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == master:  # ppid
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def django_setup(self) -> None:
        """This process's Django: the same settings and database as the stack."""
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import logging

        import django

        django.setup()
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command lines
        logging.getLogger("axes").setLevel(logging.WARNING)
