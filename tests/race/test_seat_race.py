"""No seat is ever oversold: many buyers at once, each in its own thread on its own PostgreSQL
connection, released together by a barrier.

Each test runs twice (see ``conftest.locking``): ``locked`` is the code as it ships and must
give exactly the capacity; ``control`` switches the course-row locks off and must observe the
oversell, which proves the test can fail. Both runs go through the same widened race window
(``harness.Gate``: every buyer waits after counting the seats until the others have counted too
or are queued on the lock), so the control oversells every time, not by luck.
"""

import datetime as dt
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from core.locking import Busy
from core.models import SiteOptions
from enrollment.models import EnrollmentOptions, Registration
from enrollment.services import (
    AttendeeInput,
    BuyerInput,
    CourseFull,
    order_place,
    registrations_confirm_paid,
)
from enrollment.services.seats import seats_taken as real_seats_taken
from tests.factories import RegistrationFactory, course_with_meetings, local_dt, today

from .harness import run_together

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

S = Registration.Status


def open_course(*, capacity: int):
    """A paid course open for registration, its first meeting four weeks away."""
    course = course_with_meetings(
        first=local_dt(today() + dt.timedelta(weeks=4), 18, 30),
        capacity=capacity,
        minimum=min(3, capacity),
        fee=Decimal("25.00"),
    )
    # The option rows exist before the threads start (they are made on first use otherwise).
    EnrollmentOptions.current()
    SiteOptions.current()
    now = timezone.now()
    assert not course.is_past_cutoff(now) and course.semester.registration_is_open(now)
    return course


def place(course_id: int, i: int, *, join_waitlist: bool, now: dt.datetime):
    return lambda: order_place(
        buyer=BuyerInput(first_name="Robin", last_name=f"Buyer{i}", email=f"buyer{i}@example.org"),
        attendees=[AttendeeInput(course_id=course_id, first_name="Sam", last_name=f"Attendee{i}")],
        join_waitlist=join_waitlist,
        now=now,
    )


def unexpected(outcomes, *, allowed=(CourseFull,)) -> list[str]:
    """Errors other than the expected ones; ``Busy`` is never expected (the lock timeout is
    generous here), nor is anything else."""
    return [
        f"buyer {o.index}: {type(o.error).__name__}: {o.error}"
        for o in outcomes
        if o.error is not None and (isinstance(o.error, Busy) or not isinstance(o.error, allowed))
    ]


def report(name: str, locking: bool, gate, elapsed: float, **counts) -> None:
    waits = max(gate.waits, default=0.0)
    figures = " ".join(f"{k}={v}" for k, v in counts.items())
    print(
        f"\n[race] {name} {'locked' if locking else 'control'}: {figures} "
        f"elapsed={elapsed:.2f}s longest-gate-wait={waits * 1000:.0f}ms"
    )


BUYERS = 32
CAPACITY = 5


def test_buyers_at_once_never_oversell_a_course(locking, gate):
    course = open_course(capacity=CAPACITY)
    now = timezone.now()
    # Even-numbered buyers want a seat or nothing; odd-numbered ones join the waitlist.
    wants_waitlist = [i % 2 == 1 for i in range(BUYERS)]
    jobs = [place(course.pk, i, join_waitlist=wants_waitlist[i], now=now) for i in range(BUYERS)]

    started = time.monotonic()
    outcomes = run_together(jobs, gate)
    elapsed = time.monotonic() - started

    assert not unexpected(outcomes), unexpected(outcomes)
    held = Registration.objects.filter(course=course, status=S.HELD).count()
    taken = real_seats_taken(course.pk, now=now)
    report(
        "32 buyers, 5 seats",
        locking,
        gate,
        elapsed,
        held=held,
        seats_taken=taken,
        waitlisted=Registration.objects.filter(course=course, status=S.WAITLISTED).count(),
        course_full=sum(isinstance(o.error, CourseFull) for o in outcomes),
    )

    if not locking:
        assert taken > CAPACITY, f"the control run must oversell (locking off), but {taken} seats were taken"
        return

    assert held == taken == CAPACITY
    # Every count a buyer saw before writing was already at or under capacity, one more each
    # time: the buyers went through the course one by one.
    assert sorted(gate.observed) == list(range(CAPACITY)) + [CAPACITY] * (BUYERS - CAPACITY)
    kinds = Counter()
    for o in outcomes:
        if o.error is not None:
            assert isinstance(o.error, CourseFull) and not wants_waitlist[o.index]
            kinds["full"] += 1
        elif o.value.held:
            assert len(o.value.held) == 1 and not o.value.waitlisted
            kinds["held"] += 1
        else:
            assert len(o.value.waitlisted) == 1 and wants_waitlist[o.index]
            kinds["waitlisted"] += 1
    assert kinds["held"] == CAPACITY
    assert kinds["held"] + kinds["waitlisted"] + kinds["full"] == BUYERS
    assert kinds["waitlisted"] == sum(wants_waitlist) - sum(
        wants_waitlist[o.index] for o in outcomes if o.error is None and o.value.held
    )
    assert Registration.objects.filter(course=course, status=S.WAITLISTED).count() == kinds["waitlisted"]


def test_late_payments_and_new_orders_share_the_last_seats(locking, gate):
    """5 of 8 seats confirmed; 10 holds ran out (and were released) and their payments arrive now,
    while 10 new buyers check out: 3 of those 20 get a seat, the rest are lost (refund) or told
    it's full. The holds are already released, as the periodic job does: were they still "held",
    the new buyers would expire them inline and, without locking, queue on those rows' write
    locks — which would serialize the control run and hide the oversell it must show."""
    capacity, confirmed, contenders = 8, 5, 10
    course = open_course(capacity=capacity)
    now = timezone.now()
    RegistrationFactory.create_batch(confirmed, course=course)
    expired_holds = [
        RegistrationFactory(course=course, status=S.EXPIRED, expires_at=now - dt.timedelta(minutes=1))
        for _ in range(contenders)
    ]
    assert real_seats_taken(course.pk, now=now) == confirmed
    jobs = []
    for i, registration in enumerate(expired_holds):
        jobs.append(lambda pk=registration.pk: registrations_confirm_paid(registration_ids=[pk], now=now))
        jobs.append(place(course.pk, i, join_waitlist=False, now=now))

    started = time.monotonic()
    outcomes = run_together(jobs, gate)
    elapsed = time.monotonic() - started

    assert not unexpected(outcomes), unexpected(outcomes)
    taken = real_seats_taken(course.pk, now=now)
    late_confirmed = sum(len(o.value[0]) for o in outcomes[0::2] if o.error is None)
    new_held = sum(len(o.value.held) for o in outcomes[1::2] if o.error is None)
    report(
        "10 late payments + 10 new orders, 3 seats",
        locking,
        gate,
        elapsed,
        seats_taken=taken,
        late_confirmed=late_confirmed,
        new_held=new_held,
    )

    if not locking:
        assert taken > capacity, f"the control run must oversell (locking off), but {taken} seats were taken"
        return

    assert taken == capacity
    assert late_confirmed + new_held == capacity - confirmed
    assert Registration.objects.filter(course=course, status=S.CONFIRMED).count() == confirmed + late_confirmed
    assert Registration.objects.filter(course=course, status=S.HELD, expires_at__gt=now).count() == new_held
    # The late payments that lost the race are reported as lost (to be refunded), never confirmed.
    for o in outcomes[0::2]:
        confirmed_rows, lost = o.value
        assert len(confirmed_rows) + len(lost) == 1
        if lost:
            assert lost[0].status == S.EXPIRED
    assert all(isinstance(o.error, CourseFull) for o in outcomes[1::2] if o.error is not None)
    # Serialized by the lock, every count saw every earlier write: the counts never go down and
    # never pass the capacity. (Counts also come from the waitlist check after freed holds.)
    assert gate.observed == sorted(gate.observed)
    assert gate.observed[0] == confirmed and max(gate.observed) == capacity
    assert len(gate.observed) >= 2 * contenders
