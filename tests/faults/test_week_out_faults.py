"""The week-out run and the outbox under faults, end to end: a real Celery worker (prefork, two
processes) on a real Redis broker, the test database on PostgreSQL, a real SMTP server (aiosmtpd).

1. Two runs started at once (two ``enrollment.week_out`` tasks through the broker, and a third
   run in this process) → one decision per course, one message per registration and kind, one
   refund per paid registration of a cancelled course, one call-list entry per patron and topic.
2. The worker SIGKILLed mid-run (one process deciding a course, the other in the middle of an
   SMTP conversation), then a new worker → the unacknowledged run is redelivered and finishes,
   the half-sent message is sent once, the sweeps settle what the killed run never settled.
3. The SMTP server answering 451 for a while → the messages wait with attempts and backoff and
   are delivered, once each, when it accepts again.
4. Redis restarted mid-run (queues lost) while the worker and a staff request keep committing
   outbox rows → nothing lost: the sweep delivers every message, once.

The kill and the overlap come at known points, not at lucky moments: the test holds a course row
(``RowLock``, a staff member's long transaction) so that runs queue on it where the test wants
them, and the SMTP server can hold one message before its reply. Time is compressed only by
settings given to the worker (a short outbox backoff and sweep grace, a short Redis visibility
timeout for the restarted worker); the code paths are the production ones.
"""

import datetime as dt
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from classes.models import Course
from core.models import OutboxMessage, SiteOptions
from enrollment import tasks as enrollment_tasks
from enrollment.models import CallListEntry, CourseDecision, EnrollmentOptions, Order, Registration, RegistrationEvent
from enrollment.services.weekout import course_decide, refund_reason
from finance.models import Payment, Refund
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings, local_dt, today

from .harness import FaultySmtpHandler, RowLock, lock_waiters, other_sessions, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

CANCEL, RUN = CourseDecision.Outcome.CANCELLED.value, CourseDecision.Outcome.RUNNING.value
SENT, PENDING = OutboxMessage.Status.SENT, OutboxMessage.Status.PENDING
MESSAGE_ID = re.compile(r"<outbox\.(\d+)\.")


# --- the scenario --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """One course to seed: what it should become, and its confirmed, paid registrants with and
    without an e-mail address. ``days``: its first meeting is that many days from today (3: the
    week-out cutoff has passed)."""

    outcome: str
    with_email: int
    without_email: int = 0
    days: int = 3


@dataclass
class Scenario:
    courses: list[Course] = field(default_factory=list)
    outcome: dict[int, str] = field(default_factory=dict)  # course id -> decision
    messages: set[str] = field(default_factory=set)  # dedupe keys
    call_list: set[tuple[int, str]] = field(default_factory=set)  # (registration id, topic)
    refunds: dict[str, Decimal] = field(default_factory=dict)  # dedupe key -> amount
    cancelled_registrations: set[int] = field(default_factory=set)
    instructor: dict[int, str] = field(default_factory=dict)  # course id -> instructor's address


def seed(plans: list[Plan], scenario: Scenario | None = None) -> Scenario:
    """Courses whose first meetings follow each other 20 minutes apart (so every run takes them in
    the order given), each with paid registrations (cash and check at the desk) — at its minimum
    for a course that runs, two short of it for one that is cancelled — and what deciding them
    must leave behind."""
    scenario = scenario or Scenario()
    SiteOptions.current()
    EnrollmentOptions.current()
    start = len(scenario.courses)
    for i, plan in enumerate(plans, start=start):
        confirmed = plan.with_email + plan.without_email
        minimum = confirmed if plan.outcome == RUN else confirmed + 2
        first = local_dt(today() + dt.timedelta(days=plan.days), 9) + dt.timedelta(minutes=20 * i)
        course = course_with_meetings(first=first, minimum=minimum, capacity=minimum + 4, title=f"Faults course {i}")
        scenario.courses.append(course)
        scenario.outcome[course.pk] = plan.outcome
        scenario.instructor[course.pk] = course.instructor.email
        for j in range(confirmed):
            has_email = j < plan.with_email
            order = OrderFactory(channel=Order.Channel.DESK, **({} if has_email else {"email": ""}))
            registration = RegistrationFactory(course=course, order=order)
            provider = Payment.Provider.CASH if j % 2 == 0 else Payment.Provider.CHECK
            payment = Payment.objects.create(order=order, provider=provider, amount=registration.price,
                                             status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now(),
                                             reference="" if provider == Payment.Provider.CASH else f"{2000 + j}")
            payment.registrations.set([registration])
            if plan.outcome == CANCEL:
                scenario.cancelled_registrations.add(registration.pk)
                scenario.refunds[f"cancel:{registration.pk}"] = registration.price
                if has_email:
                    scenario.messages.add(f"course-cancelled:{registration.pk}")
                else:
                    scenario.call_list.add((registration.pk, CallListEntry.Topic.CANCELLATION.value))
            elif has_email:
                scenario.messages.add(f"reminder:{registration.pk}")
            else:
                scenario.call_list.add((registration.pk, CallListEntry.Topic.REMINDER.value))
        scenario.messages.add(f"instructor-cancelled:{course.pk}" if plan.outcome == CANCEL
                              else f"instructor-roster:{course.pk}")
    return scenario


# --- waiting and judging ---------------------------------------------------------------------------

def outbox_state() -> str:
    rows = OutboxMessage.objects.order_by("pk").values_list("dedupe_key", "status", "attempts", "last_error")
    return "outbox: " + "; ".join(f"{k} {s} x{a} {e[:60]}".strip() for k, s, a, e in rows)


def beat(app, worker, task_name: str) -> str:
    """What celery beat does for one entry of the schedule: send the task by name through the
    broker. Waits until the worker has run it; returns the value it logged."""
    return worker.wait_succeeded(app.send_task(task_name).id)


def received(smtp: FaultySmtpHandler) -> Counter:
    """How often the SMTP server accepted each outbox message (by dedupe key), matched by the
    Message-ID the outbox gives it (``<outbox.<id>.<hash>@…>``, the same on every attempt)."""
    rows = dict(OutboxMessage.objects.values_list("pk", "dedupe_key"))
    counts: Counter = Counter()
    for message_id in smtp.message_ids():
        match = MESSAGE_ID.search(message_id)
        assert match and int(match[1]) in rows, f"a message the outbox did not send: {message_id}"
        counts[rows[int(match[1])]] += 1
    return counts


def sweep_when_due(app, worker, redis_server, *, until, grace: float = 60.0, timeout: float = 40.0) -> None:
    """The beat's outbox sweep, each time a message has come due (a retry whose time has come, or
    a never-tried message older than the sweep's ``grace``), until ``until()``; each sweep's
    deliveries run before the next one is sent."""
    deadline = time.monotonic() + timeout

    def due():
        now = timezone.now()
        return OutboxMessage.objects.filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - dt.timedelta(
                seconds=grace)), status=PENDING).exists()

    while not until():
        assert time.monotonic() < deadline, f"the sweeps did not get there in {timeout:.0f} s\n{outbox_state()}"
        wait_for(lambda: until() or due(), timeout=max(deadline - time.monotonic(), 1), what="a message to come due",
                 details=outbox_state)
        if until():
            break
        beat(app, worker, "core.outbox_sweep")
        wait_for(lambda: redis_server.queue_length() == 0 and worker.idle(app), timeout=20,
                 what="the sweep's deliveries to run", details=worker.tail)


def wait_drained(scenario: Scenario, worker, app, redis_server, *, timeout: float = 45.0) -> None:
    """Until every expected message is in the outbox and sent, the broker's queue is empty with
    nothing unacknowledged, and the worker runs nothing."""

    def drained():
        if OutboxMessage.objects.count() < len(scenario.messages):
            return False
        if OutboxMessage.objects.exclude(status=SENT).exists():
            return False
        if redis_server.queue_length() or redis_server.unacked():
            return False
        return worker.idle(app)

    wait_for(drained, timeout=timeout, what="every message sent and the worker idle",
             details=lambda: f"{outbox_state()}\n{worker.tail()}")


def assert_exactly_once(scenario: Scenario, smtp: FaultySmtpHandler) -> None:
    """One decision per course; one message per (registration or course, kind), sent, and
    received by the SMTP server exactly once; one refund per paid registration of a cancelled
    course; one call-list entry per patron without e-mail and topic; one audit row per
    registration cancelled."""
    assert dict(CourseDecision.objects.values_list("course_id", "outcome")) == scenario.outcome
    assert dict(Course.objects.filter(pk__in=scenario.outcome).values_list("pk", "status")) == scenario.outcome

    rows = {m.pk: m for m in OutboxMessage.objects.all()}
    assert Counter(m.dedupe_key for m in rows.values()) == Counter(scenario.messages), outbox_state()
    assert all(m.status == SENT for m in rows.values()), outbox_state()

    got, want = received(smtp), Counter(scenario.messages)
    assert got == want, f"received too often: {got - want}; never received: {want - got}"
    by_id = {m.pk: m for m in rows.values()}
    for message in smtp.messages:
        row = by_id[int(MESSAGE_ID.search(str(message["Message-ID"]))[1])]
        # (the parsed Subject keeps the blank before Django's folded, encoded word: strip it)
        assert (str(message["To"]), str(message["Subject"]).strip()) == (row.to, row.subject)
    assert max(Counter((str(m["To"]), str(m["Subject"])) for m in smtp.messages).values()) == 1

    refunds = list(Refund.objects.values_list("dedupe_key", "amount", "registration_id"))
    assert {key: amount for key, amount, _ in refunds} == scenario.refunds
    assert len(refunds) == len(scenario.refunds)
    assert all(key == f"cancel:{registration_id}" for key, _, registration_id in refunds)

    entries = Counter(CallListEntry.objects.values_list("registration_id", "topic"))
    assert entries == Counter(scenario.call_list)

    cancellations = Counter(RegistrationEvent.objects.filter(to_status=Registration.Status.CANCELLED)
                            .values_list("registration_id", flat=True))
    assert cancellations == Counter(scenario.cancelled_registrations)


def assert_no_task_failed(*workers) -> None:
    for worker in workers:
        assert "raised unexpected" not in worker.log(), worker.tail()


# --- 1. two runs at once ---------------------------------------------------------------------------

def test_two_week_out_runs_at_once_decide_and_tell_each_registration_once(
    start_worker, celery_app, redis_server, smtp_handler
):
    scenario = seed([Plan(CANCEL, 2, 1), Plan(RUN, 3, 1), Plan(CANCEL, 3), Plan(RUN, 2, 1),
                     Plan(CANCEL, 1, 1), Plan(RUN, 4), Plan(CANCEL, 2, 1), Plan(RUN, 3, 1)])
    worker = start_worker()
    here: dict = {}

    def run_here():
        try:
            here["decided"] = enrollment_tasks.week_out()  # the task's body: decide, then settle refunds
        except BaseException as exc:  # noqa: BLE001 - judged below
            here["error"] = exc
        finally:
            connection.close()

    # The first course's row is held here, so every run queues on it; all three are waiting
    # (PostgreSQL shows it) before it is let go: they start together, not one after another.
    lock = RowLock(connection.settings_dict, Course._meta.db_table, scenario.courses[0].pk)
    thread = threading.Thread(target=run_here, name="week-out-in-test")
    try:
        runs = [enrollment_tasks.week_out.delay(), enrollment_tasks.week_out.delay()]
        thread.start()
        wait_for(lambda: len(lock_waiters()) == 3, timeout=30, what="both worker runs and this one to queue on "
                 "the first course", details=worker.tail)
    finally:
        lock.release()
    thread.join(60)
    assert not thread.is_alive(), "the run in the test process did not finish"
    assert "error" not in here, here.get("error")

    by_worker = [int(worker.wait_succeeded(run.id)) for run in runs]
    assert sum(by_worker) + here["decided"] == len(scenario.courses), (by_worker, here["decided"])
    wait_drained(scenario, worker, celery_app, redis_server)

    assert_exactly_once(scenario, smtp_handler)
    assert all(m.attempts == 1 for m in OutboxMessage.objects.all()), outbox_state()
    assert_no_task_failed(worker)


# --- 2. the worker killed mid-run ------------------------------------------------------------------

def test_worker_killed_mid_run_then_restarted_misses_nothing_and_sends_nothing_twice(
    start_worker, celery_app, redis_server, smtp_handler
):
    scenario = seed([Plan(CANCEL, 2, 1), Plan(RUN, 2, 1), Plan(CANCEL, 2, 1), Plan(RUN, 3), Plan(CANCEL, 2, 1),
                     Plan(RUN, 2, 1)])
    c = scenario.courses
    decided_before = {c[0].pk, c[1].pk, c[2].pk}
    held_key = f"instructor-cancelled:{c[2].pk}"  # course 2's last message
    smtp_handler.hold_for = scenario.instructor[c[2].pk]
    first = start_worker()

    # Where the kill lands: courses 0-2 decided and committed; course 3 being decided (its row is
    # held here, so the run waits on it inside its transaction); the worker's other process in
    # the middle of sending course 2's last message (the SMTP server holds it before replying);
    # every other message of courses 0-2 sent.
    lock = RowLock(connection.settings_dict, Course._meta.db_table, c[3].pk)
    try:
        run = enrollment_tasks.week_out.delay()

        def mid_run():
            decided = set(CourseDecision.objects.values_list("course_id", flat=True))
            unsent = list(OutboxMessage.objects.exclude(status=SENT).values_list("dedupe_key", flat=True))
            return (decided == decided_before and smtp_handler.holding.is_set() and unsent == [held_key]
                    and len(lock_waiters()) == 1)

        wait_for(mid_run, timeout=30, what="the run to wait on course 3 with course 2's last message in flight",
                 details=lambda: f"{outbox_state()}\n{first.tail()}")
        first.kill()
    finally:
        lock.release()
    smtp_handler.release.set()
    wait_for(lambda: smtp_handler.dropped == 1, timeout=10, what="the SMTP server to drop the half-sent message")
    wait_for(lambda: not other_sessions(), timeout=15, what="the killed worker's database sessions to end")

    # Nothing the killed worker had not committed survived; nothing it had committed was lost.
    assert set(CourseDecision.objects.values_list("course_id", flat=True)) == decided_before
    assert set(Course.objects.filter(status=Course.Status.OPEN).values_list("pk", flat=True)) == {
        c[3].pk, c[4].pk, c[5].pk}
    held = OutboxMessage.objects.get(dedupe_key=held_key)
    assert (held.status, held.attempts, held.sent_at) == (PENDING, 0, None)  # rolled back with its worker
    assert not Refund.objects.exists()  # the run settles refunds after deciding every course: never got there
    sent = set(OutboxMessage.objects.filter(status=SENT).values_list("dedupe_key", flat=True))
    assert sent == set(OutboxMessage.objects.values_list("dedupe_key", flat=True)) - {held_key}
    assert received(smtp_handler) == Counter(sent)

    # A new worker. acks_late: the killed one acknowledged neither the run nor the half-sent
    # delivery, so Redis hands both out again once their visibility timeout (an hour in
    # production; 3 s for this worker) has passed.
    second = start_worker(CELERY_BROKER_TRANSPORT_OPTIONS={
        "visibility_timeout": 3, "unacked_restore_interval": 1, "unacked_restore_throttle": 1})
    assert int(second.wait_succeeded(run.id, timeout=40)) == 3  # the redelivered run decides courses 3-5
    wait_for(lambda: OutboxMessage.objects.get(dedupe_key=held_key).status == SENT, timeout=30,
             what="the half-sent message to be sent", details=lambda: f"{outbox_state()}\n{second.tail()}")

    # Beat goes on: the refunds sweep settles the courses the killed run decided, the outbox
    # sweep finds nothing left, and another week-out run decides nothing more.
    assert not Refund.objects.filter(registration__course__in=[c[0], c[2]]).exists()
    beat(celery_app, second, "finance.refunds_sweep")
    assert beat(celery_app, second, "core.outbox_sweep") == "0"
    assert beat(celery_app, second, "enrollment.week_out") == "0"
    wait_drained(scenario, second, celery_app, redis_server)

    assert_exactly_once(scenario, smtp_handler)
    assert OutboxMessage.objects.get(dedupe_key=held_key).attempts == 1
    assert sum(int(v) for v in second.results(run.id)) == 3  # however often it was handed out
    assert_no_task_failed(second)


# --- 3. SMTP refusing for a while ------------------------------------------------------------------

def test_smtp_refusing_with_451_for_a_while_then_every_message_is_delivered_once(
    start_worker, celery_app, redis_server, smtp_handler
):
    scenario = seed([Plan(CANCEL, 2, 1), Plan(RUN, 3, 1)])
    smtp_handler.refusing.set()
    # Backoff after a temporary failure: 1 s here instead of 1, 2, 4 … minutes.
    worker = start_worker(OUTBOX_BACKOFF_BASE_SECONDS=1, OUTBOX_BACKOFF_MAX_SECONDS=1)

    beat(celery_app, worker, "enrollment.week_out")
    count = len(scenario.messages)

    def tried(times: int):
        rows = list(OutboxMessage.objects.values_list("status", "attempts"))
        return len(rows) == count and all(status == PENDING and attempts >= times for status, attempts in rows)

    wait_for(lambda: tried(1), timeout=30, what="every message tried once", details=outbox_state)
    for message in OutboxMessage.objects.all():
        assert "451 4.3.0" in message.last_error and message.next_attempt_at is not None, outbox_state()

    sweep_when_due(celery_app, worker, redis_server, until=lambda: tried(3))  # still refused: two more attempts each
    assert smtp_handler.messages == []
    assert smtp_handler.refused == sum(OutboxMessage.objects.values_list("attempts", flat=True))

    smtp_handler.refusing.clear()  # the server is back
    sweep_when_due(celery_app, worker, redis_server, until=lambda: not OutboxMessage.objects.filter(status=PENDING).exists())
    wait_drained(scenario, worker, celery_app, redis_server)
    assert beat(celery_app, worker, "core.outbox_sweep") == "0"

    assert_exactly_once(scenario, smtp_handler)
    rows = list(OutboxMessage.objects.all())
    assert all(m.attempts >= 4 and m.sent_at is not None and m.next_attempt_at is None for m in rows), outbox_state()
    # Every attempt but the last was refused; none of them reached the server twice.
    assert smtp_handler.refused == sum(m.attempts - 1 for m in rows)
    assert_no_task_failed(worker)


# --- 4. Redis restarted mid-run --------------------------------------------------------------------

def test_redis_restarted_mid_run_loses_no_message(start_worker, celery_app, redis_server, smtp_handler,
                                                  django_user_model):
    scenario = seed([Plan(CANCEL, 2, 1), Plan(RUN, 2), Plan(CANCEL, 2, 1), Plan(RUN, 2, 1)])
    c = scenario.courses
    # A course staff cancel early (its cutoff is weeks away): a request in this process.
    seed([Plan(CANCEL, 2, 1, days=30)], scenario)
    staff_course = scenario.courses[-1]
    staff = django_user_model.objects.create_user("coordinator", "coord@library.example", "a-long-passw0rd",
                                                  is_staff=True)
    # Never-tried messages are left to their own delivery task for 2 s (60 s in production).
    worker = start_worker(OUTBOX_SWEEP_GRACE_SECONDS=2)

    lock = RowLock(connection.settings_dict, Course._meta.db_table, c[2].pk)
    try:
        run = enrollment_tasks.week_out.delay()

        def mid_run():
            decided = set(CourseDecision.objects.values_list("course_id", flat=True))
            unsent = OutboxMessage.objects.exclude(status=SENT).exists()
            return decided == {c[0].pk, c[1].pk} and not unsent and len(lock_waiters()) == 1

        wait_for(mid_run, timeout=30, what="the run to wait on course 2, courses 0-1 told",
                 details=lambda: f"{outbox_state()}\n{worker.tail()}")
        sent_before = OutboxMessage.objects.count()
        redis_server.kill()  # its queues are gone, and nobody can queue anything
    finally:
        lock.release()  # the run goes on without a broker

    # A staff request commits while the broker is down: the delivery tasks cannot be queued,
    # and the request must not fail because of it (``on_commit(..., robust=True)``).
    decision = course_decide(course_id=staff_course.pk, force="cancel", reason="The instructor is ill", actor=staff)
    refunds = enrollment_tasks.refunds_settle_for(decision.settle_ids, reason=refund_reason(decision), actor=staff)
    assert decision.created and len(refunds) == 3
    # The run finishes without a broker: courses 2 and 3 decided and their messages committed,
    # their delivery tasks lost (4: the courses this run decided in all).
    assert worker.wait_succeeded(run.id, timeout=40) == "4"
    unsent = OutboxMessage.objects.exclude(status=SENT)
    assert unsent.count() == len(scenario.messages) - sent_before, outbox_state()
    assert all(m.attempts == 0 for m in unsent), outbox_state()  # their tasks were never queued
    assert set(CourseDecision.objects.values_list("course_id", flat=True)) == set(scenario.outcome)

    redis_server.start()  # the same port, empty
    if worker.reconnected_or_exited(celery_app) == "exited":
        # The worker did not ride the restart out. With celery 5.7.0 / kombu 5.7.0 a broker
        # connection lost while a task is unacknowledged sometimes (a race in the consumer's
        # clean-up) ends in "Unrecoverable error: AttributeError: 'NoneType' object has no
        # attribute 'hostname'" from kombu's Redis channel, and the worker exits with status 1
        # after finishing its running tasks. Its process supervisor starts it again, as
        # production's must (systemd Restart=always); then nothing may be missing.
        assert worker.proc.returncode != 0 and "Unrecoverable error" in worker.log(), worker.tail()
        worker = start_worker(OUTBOX_SWEEP_GRACE_SECONDS=2)
    sweep_when_due(celery_app, worker, redis_server, grace=2,
                   until=lambda: not OutboxMessage.objects.exclude(status=SENT).exists())
    beat(celery_app, worker, "finance.refunds_sweep")
    assert beat(celery_app, worker, "enrollment.week_out") == "0"
    wait_drained(scenario, worker, celery_app, redis_server)
    assert beat(celery_app, worker, "core.outbox_sweep") == "0"

    assert_exactly_once(scenario, smtp_handler)
    assert all(m.attempts == 1 for m in OutboxMessage.objects.all()), outbox_state()
    assert_no_task_failed(worker)

