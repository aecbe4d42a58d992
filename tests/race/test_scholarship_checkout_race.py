"""Checkouts asking for a Pass the Buck scholarship never spend the same dollars: many
``checkout_place`` calls at once (different buyers and attendees, seats to spare), each in its
own thread on its own PostgreSQL connection, released together by a barrier, racing for a fund
that holds exactly one half-fee.

``locked`` (the code as it ships) must place exactly one order with one award and leave the
balance at zero; every other checkout is refused with ``FundShort`` and writes nothing — no
order, seat, payment or fund entry. ``control`` switches the locks off (``locking``: the course
rows, and the fund row through ``finance.services.fund.LOCKING``) and must overspend, which
proves the test can fail. As in ``test_fund_race``, both runs go through the same widened window
(``harness.Gate``, right after an award has read the balance and before it writes), so the
control overspends every time, not by luck.

Two shapes: all checkouts for one course (the course row lock queues them first), and a course
each (no course row is shared: only the fund row's lock stands between them and an overspend).
The fund gate is a ``Gate`` of its own, not the seat-count gate of ``conftest.gate``: a checkout
counts seats before it reads the balance, and one gate for both would let the second wait pass
at once.
"""

import time
from decimal import Decimal

import pytest

from core.locking import Busy
from core.models import OutboxMessage, SiteOptions
from enrollment.models import EnrollmentOptions, Order, Registration
from enrollment.services import AttendeeInput, BuyerInput
from finance.models import Fund, FundEntry, Payment
from finance.services.checkout import FundShort, checkout_place
from finance.services.fund import fund_balance, fund_donation_record
from tests.factories import course_with_meetings

from .harness import run_together

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

FEE = Decimal("25.00")
HALF_FEE = Decimal("12.50")
CHECKOUTS = 10


def counts() -> dict[str, int]:
    return {"orders": Order.objects.count(), "registrations": Registration.objects.count(),
            "payments": Payment.objects.count(), "awards": FundEntry.objects.filter(kind=FundEntry.Kind.AWARD).count()}


@pytest.mark.parametrize("shape", ["one course", "a course each"])
def test_scholarship_checkouts_at_once_never_spend_the_same_dollars(locking, fund_gate, shape):
    SiteOptions.current()
    EnrollmentOptions.current()
    Fund.current()  # the rows exist before the threads start
    fund_donation_record(amount=HALF_FEE, dedupe_key="donation:race")
    if shape == "one course":
        courses = [course_with_meetings(fee=FEE, capacity=CHECKOUTS + 5, minimum=1)] * CHECKOUTS
    else:
        courses = [course_with_meetings(fee=FEE, capacity=5, minimum=1) for _ in range(CHECKOUTS)]
    outbox_before = OutboxMessage.objects.count()

    def checkout(i: int):
        return checkout_place(
            buyer=BuyerInput(first_name="Buyer", last_name=f"Number{i}", email=f"buyer{i}@example.org"),
            attendees=[AttendeeInput(course_id=courses[i].pk, first_name="Alex", last_name=f"Reader{i}",
                                     scholarship=True)],
        )

    started = time.monotonic()
    outcomes = run_together([lambda i=i: checkout(i) for i in range(CHECKOUTS)], fund_gate)
    elapsed = time.monotonic() - started

    unexpected = [f"checkout {o.index}: {type(o.error).__name__}: {o.error}" for o in outcomes
                  if o.error is not None and (isinstance(o.error, Busy) or not isinstance(o.error, FundShort))]
    assert not unexpected, unexpected
    rows = counts()
    balance = fund_balance()
    print(f"\n[race] {CHECKOUTS} scholarship checkouts, {shape}, one half-fee, "
          f"{'locked' if locking else 'control'}: {rows} balance={balance} elapsed={elapsed:.2f}s "
          f"longest-gate-wait={max(fund_gate.waits, default=0) * 1000:.0f}ms")

    if not locking:
        assert rows["awards"] > 1 and balance < 0, (
            f"the control run must overspend, but {rows['awards']} award(s), ${balance} left")
        return

    assert balance == Decimal("0.00")
    assert rows == {"orders": 1, "registrations": 1, "payments": 1, "awards": 1}
    (winner,) = [o for o in outcomes if o.error is None]
    (registration,) = winner.value.registrations
    assert registration.status == Registration.Status.HELD and registration.scholarship_requested
    payment = Payment.objects.get()
    assert (payment.provider, payment.amount, list(payment.registrations.all())) == (
        Payment.Provider.SCHOLARSHIP, HALF_FEE, [registration])
    assert FundEntry.objects.get(kind=FundEntry.Kind.AWARD).registration_id == registration.pk
    shorts = [o for o in outcomes if isinstance(o.error, FundShort)]
    assert len(shorts) == CHECKOUTS - 1
    assert all(o.error.index == 0 and o.error.course_id == courses[o.index].pk for o in shorts)
    assert OutboxMessage.objects.count() == outbox_before  # a held seat sends nothing; the refused wrote nothing
    # Serialized by the locks: the winner saw the half-fee, every later checkout saw nothing left,
    # and nobody ever saw (or made) a negative balance.
    assert sorted(fund_gate.observed, reverse=True) == [HALF_FEE] + [Decimal("0.00")] * (CHECKOUTS - 1)
