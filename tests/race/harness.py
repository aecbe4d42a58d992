"""Real threads, each on its own PostgreSQL connection, started together — and a gate that
widens the race window so that the control run (locking off) oversells every time.

The gate sits right after a buyer has counted the seats taken and before it writes. A buyer at
the gate waits until every other buyer still on its way either has counted too, or is blocked
in PostgreSQL on a row lock (seen in ``pg_locks``), or has finished:

- locking off (the control run): nobody blocks, so every buyer counts before any of them
  writes. All of them see the same free seats and all of them take one: a certain oversell,
  not a lucky one.
- locking on: the buyer at the gate holds the course row; the others queue on that lock, so
  the gate opens as soon as PostgreSQL shows them waiting (a few milliseconds). The window is
  as wide as in the control run; the lock is what keeps it safe.

Waiting for "blocked on a lock" cannot be awaited with an event, so the gate re-checks
``pg_locks`` every few milliseconds between condition-variable wake-ups; a hard deadline turns a
hang into a clear failure.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection

POLL_SECONDS = 0.005
DEADLINE_SECONDS = 20.0


class GateTimeout(AssertionError):
    """The gate waited too long: a bug in the test or the code (never a normal outcome)."""


class Gate:
    """Holds each buyer between "counted the seats" and "wrote its row" (see the module doc)."""

    def __init__(self, *, deadline: float = DEADLINE_SECONDS):
        self.deadline = deadline
        self._cond = threading.Condition()
        self._pids: dict[int, int] = {}  # thread id -> PostgreSQL backend pid
        self._counted: set[int] = set()
        self._done: set[int] = set()
        #: Every count a buyer saw at the gate, in the order they arrived.
        self.observed: list[int] = []
        #: How long the buyers waited at the gate (seconds), for the report.
        self.waits: list[float] = []

    def enter(self) -> None:
        """A buyer thread joins (before the start barrier), on its own open connection."""
        connection.ensure_connection()
        with self._cond:
            self._pids[threading.get_ident()] = connection.connection.info.backend_pid

    def leave(self) -> None:
        with self._cond:
            self._done.add(threading.get_ident())
            self._cond.notify_all()

    def knows_this_thread(self) -> bool:
        return threading.get_ident() in self._pids

    def _pending(self, me: int) -> dict[int, int]:
        """Buyers (thread id -> pid) that have neither counted nor finished, except ``me``."""
        return {t: pid for t, pid in self._pids.items() if t != me and t not in self._counted and t not in self._done}

    @staticmethod
    def _blocked_on_row_lock(pids: list[int]) -> int:
        """How many of ``pids`` PostgreSQL shows waiting for a row lock (``pg_locks`` is read
        live, not from a per-transaction snapshot)."""
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks"
                " WHERE NOT granted AND locktype IN ('transactionid', 'tuple') AND pid = ANY(%s)",
                [pids],
            )
            return cur.fetchone()[0]

    def counted(self, taken: int) -> None:
        """Called by a buyer right after counting; returns when the buyer may write."""
        me = threading.get_ident()
        started = time.monotonic()
        with self._cond:
            self.observed.append(taken)
            self._counted.add(me)
            self._cond.notify_all()
        while True:
            with self._cond:
                pending = self._pending(me)
                if pending:
                    self._cond.wait(timeout=POLL_SECONDS)
                    pending = self._pending(me)
            if not pending or self._blocked_on_row_lock(list(pending.values())) == len(pending):
                break
            if time.monotonic() - started > self.deadline:
                raise GateTimeout(f"{len(pending)} buyers neither counted nor blocked after {self.deadline} s")
        with self._cond:
            self.waits.append(time.monotonic() - started)


def gated(real: Callable[..., int], gate: Gate) -> Callable[..., int]:
    """Wrap ``enrollment.services.seats.seats_taken``: count, then wait at the gate (buyer
    threads only; the test's own thread counts straight through)."""

    def seats_taken(course_id: int, *, now) -> int:
        taken = real(course_id, now=now)
        if gate.knows_this_thread():
            gate.counted(taken)
        return taken

    return seats_taken


@dataclass
class Outcome:
    index: int
    value: Any = None
    error: BaseException | None = None


def run_together(jobs: list[Callable[[], Any]], gate: Gate, *, timeout: float = 60.0) -> list[Outcome]:
    """Run each job in its own thread on its own connection, all released at once by a barrier.
    Every thread closes its connection when it ends. Returns one outcome per job, in order."""
    start = threading.Barrier(len(jobs), timeout=timeout)
    outcomes = [Outcome(index=i) for i in range(len(jobs))]

    def worker(i: int, job: Callable[[], Any]) -> None:
        try:
            gate.enter()
            start.wait()
            outcomes[i].value = job()
        except BaseException as exc:  # noqa: BLE001 - every outcome is recorded and judged by the test
            outcomes[i].error = exc
        finally:
            gate.leave()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job), name=f"buyer-{i}") for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {timeout} s: {stuck}"
    return outcomes
