"""Row (h): 1,200 reminders queued by the week-out reminder service and delivered through the outbox,
Celery and SMTP (the sink), beside a raw smtplib loop on one connection to the same sink; each
message must arrive exactly once."""

import smtplib
import time

from django.db import transaction

from .report import Row, ratio
from .seed import bench_courses


def _registrations(count: int, per_course: int = 100) -> list[int]:
    from tests.factories import RegistrationFactory

    from .flows import letters

    ids = []
    courses = bench_courses("remind", (count + per_course - 1) // per_course, per_course)
    with transaction.atomic():
        for i in range(count):
            course = courses[i // per_course]
            ids.append(RegistrationFactory(course=course, order__email=f"remind-{i}@bench.example",
                                           attendee_first_name="Rae", attendee_last_name=f"Remind{letters(i)}").pk)
    return ids


def _wait(condition, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.02)  # polling the sink and the outbox, bounded by the deadline
    return True


def reminders(smtp, count: int) -> Row:
    from core.models import OutboxMessage
    from enrollment import messages as enrollment_messages
    from enrollment.models import Registration

    ids = _registrations(count)
    smtp.reset()
    qs = Registration.objects.filter(pk__in=ids).select_related(
        "order", "course", "course__venue", "course__instructor", "course__semester").order_by("pk")
    start = time.perf_counter()
    with transaction.atomic():  # as the week-out run queues them: all of a run's reminders at once
        enrollment_messages.queue_reminders(list(qs))
    queued = time.perf_counter()
    row = Row("h", f"{count} reminders: queue + deliver (outbox, Celery, SMTP)", goal="queue ≤ 2 s; deliver ≥ 0.5 × raw")
    mine = OutboxMessage.objects.filter(template="reminder", to__startswith="remind-")
    arrived = _wait(lambda: smtp.total >= count and not mine.filter(status="pending").exists(), timeout=60 + count / 5)
    delivered = time.perf_counter()
    time.sleep(2)  # anything sent twice would arrive now
    per_rcpt = {k: v for k, v in smtp.per_rcpt.items() if k.startswith("remind-")}
    sample = smtp.sample
    twice = sum(1 for v in per_rcpt.values() if v > 1)
    missing = count - len(per_rcpt)
    rows_sent = mine.filter(status="sent").count()
    if twice:
        row.violations.append(f"{twice} reminders delivered more than once")
    if missing or not arrived:
        row.violations.append(f"{missing} reminders not delivered (outbox rows sent: {rows_sent}/{count})")
    deliver_s = delivered - queued
    rate = count / deliver_s if deliver_s > 0 else 0.0
    raw = raw_smtp(smtp, sample, count) if sample else 0.0
    r = ratio(rate, raw)
    row.figure = (f"{queued - start:.2f} s to queue + {deliver_s:.2f} s to deliver ({rate:.0f}/s); "
                  f"raw smtplib {raw:.0f}/s; {len(sample) // 1024} KB each")
    row.ratio = f"{r:.2f}"
    row.passed = (queued - start) <= 2 and r >= 0.5
    return row


def raw_smtp(smtp, sample: bytes, count: int) -> float:
    """The same message, ``count`` times, on one SMTP connection: messages per second."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=30) as server:
        for i in range(count):
            server.sendmail("classes@library.example", [f"raw-{i}@bench.example"], sample)
    return count / (time.perf_counter() - start)
