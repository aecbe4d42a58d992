"""A late card payment and the return of the seat's Pass the Buck award never both win: an expired
scholarship seat (its hold ran out, the award is still out) whose late payment is confirmed
(``registrations_confirm_paid``, the part of ``payment_confirm`` that decides) at the same
moment as its award goes back to the fund (``fund_award_return``), each in its own thread on its
own PostgreSQL connection, released together by a barrier.

The invariant: the seat never ends confirmed with its award returned (a half-paid seat). Either
the payment confirms it and the award stays, or the award goes back and the seat stays expired.

``locked`` (the code as it ships: both take the registration's row lock and re-read under it)
must end in exactly one of those two outcomes; ``control`` switches the locks off (``locking``:
the course and registration rows in ``enrollment.services.seats``, and the registration and fund
rows through ``finance.services.fund.LOCKING``) and must end with both, which proves the test can
fail. Both runs go through the same widened window (``harness.Gate``): each job waits at the
gate right after reading what it decides on and before it writes — the payment after reading
``Registration.fund_returned``, the return after re-checking ``_returnable`` under its lock — so
the control run crosses every time, not by luck.

Three starts: ``together`` (the barrier only: under the locks either may win, and does by timing);
``return first`` and ``payment first`` (the other job starts only once the first has read and
waits at the gate, holding the registration's lock in the locked run), so that each locked outcome
is checked every run, and the control run must cross from either side.
"""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.locking import Busy
from core.models import SiteOptions
from enrollment.models import EnrollmentOptions, Registration
from enrollment.services import AttendeeInput, BuyerInput, holds_expire, registrations_confirm_paid
from finance.models import Fund, FundEntry, Payment, Refund
from finance.services import fund
from finance.services.fund import FundNotReturnable, fund_award_return, fund_balance, fund_donation_record
from finance.services.scholarships import checkout_place
from tests.factories import course_with_meetings

from .harness import DEADLINE_SECONDS, Gate, GateTimeout, run_together

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

FEE = Decimal("25.00")
HALF_FEE = Decimal("12.50")
S = Registration.Status
K = FundEntry.Kind
PAY, RETURN = 0, 1  # the jobs' indexes in run_together
#: The read each job decides on (and waits at the gate after).
READS = {PAY: "fund_returned", RETURN: "returnable"}


class DecisionGate(Gate):
    """The harness's gate, plus an event per read: set when a job has made that read (or ended
    without it), for the starts where one job goes first."""

    def __init__(self):
        super().__init__()
        self.reached = {label: threading.Event() for label in READS.values()}


@pytest.fixture
def award_gate(locking, monkeypatch) -> DecisionGate:
    """The fund's locks follow ``locking`` (the seats' already do); each job waits at the gate
    once, right after reading what it decides on (the test's own thread reads straight through).

    A gate of its own, not ``conftest.gate``: the payment counts the seats too, right after
    reading ``fund_returned``, and a second wait there would add nothing but noise."""
    monkeypatch.setattr(fund, "LOCKING", locking)
    gate = DecisionGate()
    waited: set[int] = set()

    def wait_once(label: str, value) -> None:
        me = threading.get_ident()
        if gate.knows_this_thread() and me not in waited:
            waited.add(me)
            gate.reached[label].set()
            gate.counted((label, value))

    field = Registration.__dict__["fund_returned"]  # the column's own descriptor (the stored value)

    def fund_returned(registration):
        value = field.__get__(registration, Registration)
        wait_once("fund_returned", value)
        return value

    def store_fund_returned(registration, value):  # loading or saving the row sets it
        registration.__dict__["fund_returned"] = value

    real_returnable = fund._returnable

    def returnable(registration):
        value = real_returnable(registration)
        # The re-check under the registration's row lock (inside the transaction) decides; the
        # first look, before the transaction, only saves a lock for a seat that is plainly in use.
        if connection.in_atomic_block:
            wait_once("returnable", value)
        return value

    monkeypatch.setattr(Registration, "fund_returned", property(fund_returned, store_fund_returned))
    monkeypatch.setattr(fund, "_returnable", returnable)
    return gate


def ordered(jobs: list, first: int | None, gate: DecisionGate) -> list:
    """``jobs`` as they are (``first`` None), or with the other job held back until ``first``
    has made its read and waits at the gate (or has ended without it)."""
    if first is None:
        return jobs
    signal = gate.reached[READS[first]]

    def leader():
        try:
            return jobs[first]()
        finally:
            signal.set()

    def follower():
        if not signal.wait(DEADLINE_SECONDS):
            raise GateTimeout(f"the first job did not reach its read in {DEADLINE_SECONDS} s")
        return jobs[1 - first]()

    return [leader, follower] if first == PAY else [follower, leader]  # outcomes stay in PAY, RETURN order


@pytest.mark.parametrize("first", [None, RETURN, PAY], ids=["together", "return first", "payment first"])
def test_a_late_payment_and_the_award_return_never_both_win(locking, award_gate, first):
    SiteOptions.current()
    EnrollmentOptions.current()
    Fund.current()  # the rows exist before the threads start
    fund_donation_record(amount=HALF_FEE, dedupe_key="donation:race")
    course = course_with_meetings(fee=FEE, capacity=5, minimum=1)
    now = timezone.now()
    placed = checkout_place(
        buyer=BuyerInput(first_name="Buyer", last_name="Late", email="late@example.org"),
        attendees=[AttendeeInput(course_id=course.pk, first_name="Alex", last_name="Reader", scholarship=True)],
        now=now - dt.timedelta(minutes=20),
    )
    (registration,) = placed.registrations
    assert holds_expire(now=now) == 1  # the service, not the task: the task would return the award too
    registration.refresh_from_db()
    assert registration.status == S.EXPIRED and registration.expires_at <= now
    assert fund_balance() == Decimal("0.00")
    assert FundEntry.objects.filter(kind=K.AWARD, registration=registration).count() == 1

    jobs = [
        lambda: registrations_confirm_paid(registration_ids=[registration.pk], now=now),
        lambda: fund_award_return(registration=registration, now=now),
    ]
    started = time.monotonic()
    outcomes = run_together(ordered(jobs, first, award_gate), award_gate)
    elapsed = time.monotonic() - started

    pay, give_back = outcomes[PAY], outcomes[RETURN]
    unexpected = [f"{name}: {type(o.error).__name__}: {o.error}" for name, o in (("payment", pay), ("return", give_back))
                  if o.error is not None
                  and (o is pay or isinstance(o.error, Busy) or not isinstance(o.error, FundNotReturnable))]
    assert not unexpected, unexpected

    registration.refresh_from_db()
    returns = FundEntry.objects.filter(kind=K.AWARD_RETURNED, registration=registration).count()
    scholarship_refunds = Refund.objects.filter(payment__provider=Payment.Provider.SCHOLARSHIP,
                                                status=Refund.Status.DONE).count()
    balance = fund_balance()
    half_paid = registration.status == S.CONFIRMED and returns > 0
    return_outcome = "FundNotReturnable" if give_back.error is not None else "returned"
    start = {None: "together", RETURN: "return first", PAY: "payment first"}[first]
    print(f"\n[race] late payment vs award return, {start}, {'locked' if locking else 'control'}: "
          f"status={registration.status} award_returned={returns} scholarship_refunds={scholarship_refunds} "
          f"balance={balance} return-job={return_outcome} half-paid={half_paid} "
          f"observed={award_gate.observed} elapsed={elapsed:.2f}s "
          f"longest-gate-wait={max(award_gate.waits, default=0) * 1000:.0f}ms")

    if not locking:
        assert half_paid, (f"the control run must confirm the seat and return its award, but it is "
                           f"{registration.status} with {returns} award return(s)")
        # Both decided on what they read before either wrote.
        assert sorted(award_gate.observed) == [("fund_returned", Decimal("0.00")), ("returnable", True)]
        return

    assert not half_paid, "a confirmed seat whose award went back to the fund"
    assert scholarship_refunds == returns
    assert FundEntry.objects.filter(kind=K.AWARD, registration=registration).count() == 1
    confirmed, lost = pay.value
    if first is not None:  # the job that read first (holding the row's lock) wins
        assert registration.status == (S.CONFIRMED if first == PAY else S.EXPIRED)
    if registration.status == S.CONFIRMED:  # the payment won: the award stays
        assert returns == 0 and balance == Decimal("0.00")
        assert [r.pk for r in confirmed] == [registration.pk] and lost == []
        assert isinstance(give_back.error, FundNotReturnable)
        # Serialized: the payment saw no return; the return (if it got as far as its lock) saw the
        # seat confirmed.
        assert award_gate.observed[0] == ("fund_returned", Decimal("0.00"))
        assert award_gate.observed[1:] in ([], [("returnable", False)])
    else:  # the return won: the seat stays expired, the payment is lost (the caller refunds it)
        assert registration.status == S.EXPIRED
        assert returns == 1 and balance == HALF_FEE
        assert give_back.error is None and give_back.value.kind == K.AWARD_RETURNED
        assert confirmed == [] and [r.pk for r in lost] == [registration.pk]
        # Serialized: the return saw the seat expired; the payment saw the award back in the fund.
        assert award_gate.observed == [("returnable", True), ("fund_returned", HALF_FEE)]
