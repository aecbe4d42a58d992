"""A real SMTP server for tests (aiosmtpd), and the "needs PostgreSQL" helper of the outbox tests.

Use the ``smtp`` fixture (import it into a test module: ``from tests.smtp_server import smtp``)::

    def test_x(smtp):
        smtp.start(RecordingHandler())       # listens on 127.0.0.1:smtp.port
        ... deliver ...
        assert len(smtp.handler.messages) == 1

The fixture points Django's settings at the port (SMTP backend, no TLS, no login) *before* the
server is started, so a test can first see "SMTP down" (nothing listens on the port: connection
refused) and then start the server on the same port.
"""

import asyncio
import email
import os
import socket
from email import policy
from email.message import EmailMessage

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def need(condition: bool, what: str) -> None:
    """Skip with a printed reason when ``condition`` fails — except in CI (``CI=true``), where
    a missing server is a failure, so a green CI means the test really ran."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI requires {what}, and it is missing.", pytrace=False)
    pytest.skip(f"needs {what} (skipped outside CI; CI=true makes this a failure)")


def require_postgres() -> None:
    from django.db import connection

    need(connection.vendor == "postgresql",
         "PostgreSQL (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/library_classes)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Accepts every message and keeps it (parsed) in ``messages``.

    ``rcpt_replies`` / ``data_replies``: replies used, one per RCPT / DATA command, before the
    handler starts accepting (e.g. ``["451 4.3.0 Try again later"] * 2``, or
    ``["550 5.1.1 <x@example.org>: no such user"]``); ``None`` in the list means "accept this one".
    A reply given for ``always`` is used every time.
    """

    def __init__(self, *, rcpt_replies=None, data_replies=None, rcpt_always: str | None = None):
        self.messages: list[EmailMessage] = []
        self.rcpt_replies = list(rcpt_replies or [])
        self.data_replies = list(data_replies or [])
        self.rcpt_always = rcpt_always
        self.refused = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        reply = self.rcpt_always or (self.rcpt_replies.pop(0) if self.rcpt_replies else None)
        if reply:
            self.refused += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        reply = self.data_replies.pop(0) if self.data_replies else None
        if reply:
            self.refused += 1
            return reply
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:``port``, started and stopped by the test."""

    def __init__(self, port: int):
        self.port = port
        self.controller = None
        self.handler: RecordingHandler | None = None

    def start(self, handler: RecordingHandler | None = None) -> RecordingHandler:
        from aiosmtpd.controller import Controller

        self.stop()
        self.handler = handler or RecordingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     loop=asyncio.new_event_loop(), ready_timeout=10)
        self.controller.start()
        return self.handler

    def stop(self) -> None:
        if self.controller is not None:
            loop = self.controller.loop
            self.controller.stop()
            loop.close()
            self.controller = None


@pytest.fixture
def smtp(settings):
    """Django's SMTP backend pointed at a free local port; the server is not started yet."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError:
        need(False, "the aiosmtpd package (pip install -e '.[dev]')")
    server = SmtpServer(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
