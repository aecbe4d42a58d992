"""Fixtures of the finance tests: the localstripe server (tests/localstripe_server.py), no
broker for outbox delivery, and an order holding seats."""

import os

import pytest
from django.db import connection

from core import tasks as core_tasks
from enrollment.services import AttendeeInput, BuyerInput, order_place
from tests.factories import course_with_meetings
from tests.localstripe_server import browser, localstripe_server, stripe_settings  # noqa: F401


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Messages are queued in the outbox as usual; their delivery tasks are only recorded."""
    sent: list = []
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: sent.append(args))
    return sent


def require_postgres(what: str) -> None:
    """Concurrency tests need PostgreSQL's row locks: skip on SQLite, fail in CI (``CI=true``)."""
    if connection.vendor == "postgresql":
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI requires PostgreSQL for {what}.", pytrace=False)
    pytest.skip(f"{what} needs PostgreSQL (DATABASE_URL=postgres://…); skipped outside CI")


def place(course, *, attendees=("Alex",), email="patron@example.org", now=None):
    """An online order holding one seat per attendee in ``course``."""
    return order_place(
        buyer=BuyerInput(first_name="Jordan", last_name="Patron", email=email),
        attendees=[AttendeeInput(course_id=course.pk, first_name=name, last_name="Reader") for name in attendees],
        now=now,
    )


@pytest.fixture
def course(db):
    return course_with_meetings(capacity=5)


@pytest.fixture
def held(course):
    """An order holding one $25.00 seat."""
    return place(course)
