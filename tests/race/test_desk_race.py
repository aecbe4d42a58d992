"""The front desk and online checkout share one door to seats: desk buyers (``desk_register``:
seats confirmed at once, cash recorded in the same transaction) and online buyers
(``order_place``: seats held) race for a course's last 3 seats, each in its own thread on its own
PostgreSQL connection, released together.

``locked`` (the code as it ships) must give exactly 3 seats, and a desk buyer who lost the race
must leave nothing behind (no order, no registration, no payment). ``control`` switches the
course-row locks off and must oversell, which proves the test can fail. Both runs go through the
same widened race window (``harness.Gate``).
"""

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from enrollment.models import Order, Registration
from enrollment.services import AttendeeInput, BuyerInput, CourseFull, order_place
from enrollment.services.seats import seats_taken as real_seats_taken
from finance.models import Payment
from finance.services.offline import desk_register
from tests.factories import RegistrationFactory

from .harness import run_together
from .test_seat_race import open_course, report, unexpected

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

S = Registration.Status
CAPACITY = 8
CONFIRMED = 5  # so 3 seats are left
PER_SIDE = 8


def desk_buyer(course_id: int, i: int, *, actor, now):
    # Every other desk patron has no e-mail address (a phone instead), as at a real desk.
    email = f"desk{i}@example.org" if i % 2 == 0 else ""
    return lambda: desk_register(
        buyer=BuyerInput(first_name="Robin", last_name=f"Desk{i}", email=email, phone=f"785-555-{1000 + i}"),
        attendees=[AttendeeInput(course_id=course_id, first_name="Sam", last_name=f"Desk{i}")],
        provider="cash", amount=None, actor=actor, now=now,
    )


def online_buyer(course_id: int, i: int, *, now):
    return lambda: order_place(
        buyer=BuyerInput(first_name="Robin", last_name=f"Online{i}", email=f"online{i}@example.org"),
        attendees=[AttendeeInput(course_id=course_id, first_name="Sam", last_name=f"Online{i}")],
        now=now,
    )


def test_desk_and_online_buyers_share_the_last_seats(locking, gate, django_user_model):
    course = open_course(capacity=CAPACITY)
    RegistrationFactory.create_batch(CONFIRMED, course=course)
    staff = django_user_model.objects.create_user("frontdesk", "desk@library.example", "a-long-passw0rd",
                                                  is_staff=True)
    now = timezone.now()
    jobs = []
    for i in range(PER_SIDE):
        jobs.append(desk_buyer(course.pk, i, actor=staff, now=now))
        jobs.append(online_buyer(course.pk, i, now=now))

    started = time.monotonic()
    outcomes = run_together(jobs, gate)
    elapsed = time.monotonic() - started

    assert not unexpected(outcomes, allowed=(CourseFull,)), unexpected(outcomes, allowed=(CourseFull,))
    desk_won = [o for o in outcomes[0::2] if o.error is None]
    online_won = [o for o in outcomes[1::2] if o.error is None]
    taken = real_seats_taken(course.pk, now=now)
    report("8 desk + 8 online buyers, 3 seats", locking, gate, elapsed, seats_taken=taken,
           desk_confirmed=len(desk_won), online_held=len(online_won))

    if not locking:
        assert taken > CAPACITY, f"the control run must oversell (locking off), but {taken} seats were taken"
        return

    left = CAPACITY - CONFIRMED
    assert taken == CAPACITY
    assert len(desk_won) + len(online_won) == left
    confirmed = Registration.objects.filter(course=course, status=S.CONFIRMED)
    assert confirmed.count() == CONFIRMED + len(desk_won)
    assert Registration.objects.filter(course=course, status=S.HELD, expires_at__gt=now).count() == len(online_won)
    # Every desk buyer who got a seat paid in full, recorded with who took it; one who lost the
    # race left nothing behind: no order, registration, audit row or payment.
    for o in desk_won:
        result = o.value
        assert [r.status for r in result.registrations] == [S.CONFIRMED]
        assert result.payment.amount == Decimal("25.00") and result.payment.taken_by_id == staff.pk
        assert result.balance.due == 0
        assert result.registrations[0].events.get().actor_id == staff.pk
    assert Order.objects.filter(channel=Order.Channel.DESK).count() == len(desk_won)
    assert Payment.objects.count() == len(desk_won)
    assert all(isinstance(o.error, CourseFull) for o in outcomes if o.error is not None)
    # One by one through the course's lock: counts never go down and never pass the capacity.
    assert gate.observed == sorted(gate.observed)
    assert gate.observed[0] == CONFIRMED and max(gate.observed) == CAPACITY


def test_desk_buyers_alone_get_exactly_the_last_seats(locking, gate, django_user_model):
    """Desk against desk: the three seats go to three desk buyers, each paid in full."""
    course = open_course(capacity=CAPACITY)
    RegistrationFactory.create_batch(CONFIRMED, course=course)
    staff = django_user_model.objects.create_user("frontdesk", "desk@library.example", "a-long-passw0rd",
                                                  is_staff=True)
    now = timezone.now()
    started = time.monotonic()
    outcomes = run_together([desk_buyer(course.pk, i, actor=staff, now=now) for i in range(PER_SIDE)], gate)
    elapsed = time.monotonic() - started

    assert not unexpected(outcomes, allowed=(CourseFull,)), unexpected(outcomes, allowed=(CourseFull,))
    won = [o for o in outcomes if o.error is None]
    taken = real_seats_taken(course.pk, now=now)
    report("8 desk buyers, 3 seats", locking, gate, elapsed, seats_taken=taken, desk_confirmed=len(won))
    if not locking:
        assert taken > CAPACITY, f"the control run must oversell (locking off), but {taken} seats were taken"
        return
    assert taken == CAPACITY and len(won) == CAPACITY - CONFIRMED
    assert Payment.objects.filter(status=Payment.Status.SUCCEEDED, amount=Decimal("25.00")).count() == len(won)
    assert Order.objects.filter(channel=Order.Channel.DESK).count() == len(won)


@pytest.fixture
def balance_gate(gate, monkeypatch):
    """The same race window for desk payments: after a payment has read the order's balance due
    and before it writes (the gate records the balance each saw, in whole dollars)."""
    from finance.services import offline

    real = offline.order_balance

    def order_balance(order):
        balance = real(order)
        if gate.knows_this_thread():
            gate.counted(int(balance.due))
        return balance

    monkeypatch.setattr(offline, "order_balance", order_balance)
    return gate


def test_two_desk_payments_at_once_never_take_more_than_is_due(locking, balance_gate, django_user_model, monkeypatch):
    """Two staff members record the whole balance of the same order at the same moment (a
    phone payment and the drop box): one is recorded, the other is told nothing is due."""
    from finance.errors import NothingToPay
    from finance.services import offline

    monkeypatch.setattr(offline, "LOCKING", locking)
    course = open_course(capacity=CAPACITY)
    staff = [django_user_model.objects.create_user(f"desk{i}", f"desk{i}@library.example", "a-long-passw0rd",
                                                   is_staff=True) for i in range(2)]
    placed = desk_register(
        buyer=BuyerInput(first_name="Robin", last_name="Patron", email="robin@example.org"),
        attendees=[AttendeeInput(course_id=course.pk, first_name="Sam", last_name="Patron")],
        provider="cash", amount=Decimal("0"), actor=staff[0],
    )
    assert placed.balance.due == Decimal("25.00")
    order, registrations = placed.order, placed.registrations
    jobs = [
        lambda: offline.payment_record_offline(order=order, registrations=registrations, provider="cash",
                                               amount=Decimal("25.00"), taken_by=staff[0]),
        lambda: offline.payment_record_offline(order=order, registrations=registrations, provider="check",
                                               amount=Decimal("25.00"), reference="1001", taken_by=staff[1]),
    ]
    started = time.monotonic()
    outcomes = run_together(jobs, balance_gate)
    elapsed = time.monotonic() - started

    assert not unexpected(outcomes, allowed=(NothingToPay,)), unexpected(outcomes, allowed=(NothingToPay,))
    paid = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).count()
    report("2 desk payments of the whole balance", locking, balance_gate, elapsed, payments=paid)
    if not locking:
        assert paid == 2, "the control run must take the balance twice (locking off)"
        return
    assert paid == 1
    assert sum(isinstance(o.error, NothingToPay) for o in outcomes) == 1
    assert balance_gate.observed == [25, 0]
