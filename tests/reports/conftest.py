"""Fixtures of the reports tests: those of the finance tests (no broker for outbox delivery)."""

from tests.finance.conftest import _no_broker  # noqa: F401
