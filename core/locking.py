"""Row locking helpers shared by every service that changes seats or money."""

from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction


class Busy(Exception):
    """A lock could not be had quickly: the caller should say "busy, please try again"."""


@contextmanager
def lock_timeout(ms: int | None = None):
    """Inside ``transaction.atomic``: wait at most ``ms`` for row locks (PostgreSQL only).

    SQLite's IMMEDIATE transactions already serialize writers, with the connection timeout.
    A lock wait that runs out raises :class:`Busy`.
    """
    ms = settings.DB_LOCK_TIMEOUT_MS if ms is None else ms
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = %s", [f"{int(ms)}ms"])
    try:
        yield
    except OperationalError as exc:
        if "lock" in str(exc).lower():
            raise Busy("busy, please try again") from exc
        raise


@contextmanager
def locked_atomic(ms: int | None = None):
    """``transaction.atomic()`` with a short lock timeout, where *any* lock wait that runs out —
    including SQLite's write lock taken when the transaction opens — raises :class:`Busy`."""
    try:
        with transaction.atomic(), lock_timeout(ms):
            yield
    except OperationalError as exc:
        if "lock" in str(exc).lower():
            raise Busy("busy, please try again") from exc
        raise
