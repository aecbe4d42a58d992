"""Fixtures of the race suite: PostgreSQL required (tests/servers.py), a generous lock timeout,
the seat-count gate, and ``locking`` — on for the real run, off for the control run."""

import pytest

from core import tasks as core_tasks
from enrollment.messages import common as enrollment_messages
from enrollment.services import seats
from tests.servers import require_postgres

from .harness import Gate, gated


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


@pytest.fixture(autouse=True)
def _generous_lock_timeout(settings):
    """Buyers queue on one course row for a while: no one may give up with ``Busy``."""
    settings.DB_LOCK_TIMEOUT_MS = 20_000


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Messages are queued in the outbox as usual; their delivery tasks are only recorded, so
    race tests never push tasks into a real broker."""
    sent: list = []
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: sent.append(args))
    return sent


@pytest.fixture(autouse=True)
def _fixed_manage_link(monkeypatch):
    """Messages are rendered and queued for real, but their "My registrations" link is a fixed
    address: the race is about seats, and must not depend on the enrollment URLconf (the link
    itself is tested with the pages that serve it)."""
    monkeypatch.setattr(enrollment_messages, "manage_url", lambda email: "http://testserver/my-registrations/x/")


@pytest.fixture
def gate(monkeypatch) -> Gate:
    """The same widened race window for the real and the control run."""
    gate = Gate()
    monkeypatch.setattr(seats, "seats_taken", gated(seats.seats_taken, gate))
    return gate


@pytest.fixture(params=[True, False], ids=["locked", "control"])
def locking(request, monkeypatch) -> bool:
    """``enrollment.services.seats.LOCKING``: True for the real run, False for the control run
    that must observe the oversell (proof that the test can fail)."""
    monkeypatch.setattr(seats, "LOCKING", request.param)
    return request.param


@pytest.fixture
def fund_gate(locking, monkeypatch) -> Gate:
    """The fund's row lock follows ``locking`` (``finance.services.fund.LOCKING``); every award
    waits at its own gate right after reading the balance (the test's own thread reads straight
    through). A gate of its own: checkouts also count seats, on the ``gate`` fixture's gate."""
    from finance.services import fund

    monkeypatch.setattr(fund, "LOCKING", locking)
    gate = Gate()
    real = fund.fund_balance

    def gated_balance(f=None):
        balance = real(f)
        if gate.knows_this_thread():
            gate.counted(balance)
        return balance

    monkeypatch.setattr(fund, "fund_balance", gated_balance)
    return gate
