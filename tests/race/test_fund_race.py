"""Two checkouts never spend the same Pass the Buck dollars: many awards at once, each in its own
thread on its own PostgreSQL connection, released together by a barrier.

The fund holds exactly one half-fee. ``locked`` (the code as it ships) must make exactly one
award and leave the balance at zero; ``control`` switches the fund-row lock off
(``finance.services.fund.LOCKING``) and must overspend, which proves the test can fail. Both go
through the same widened window (``harness.Gate``, placed right after an award has read the
balance and before it writes), so the control overspends every time, not by luck.
"""

import time
from decimal import Decimal

import pytest

from core.locking import Busy
from finance.models import Fund, FundEntry
from finance.services import fund
from finance.services.fund import FundInsufficient, fund_balance, fund_donation_record
from tests.factories import RegistrationFactory

from .harness import run_together

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]

HALF_FEE = Decimal("12.50")
CHECKOUTS = 12


def test_awards_at_once_never_spend_the_same_dollars(locking, fund_gate):
    Fund.current()  # the row exists before the threads start
    fund_donation_record(amount=HALF_FEE, dedupe_key="donation:race")
    registrations = RegistrationFactory.create_batch(CHECKOUTS)
    jobs = [lambda r=r: fund.fund_award(registration=r, amount=HALF_FEE) for r in registrations]

    started = time.monotonic()
    outcomes = run_together(jobs, fund_gate)
    elapsed = time.monotonic() - started

    unexpected = [f"checkout {o.index}: {type(o.error).__name__}: {o.error}" for o in outcomes
                  if o.error is not None and (isinstance(o.error, Busy) or not isinstance(o.error, FundInsufficient))]
    assert not unexpected, unexpected
    awards = FundEntry.objects.filter(kind=FundEntry.Kind.AWARD).count()
    balance = fund_balance()
    print(f"\n[race] {CHECKOUTS} awards, one half-fee {'locked' if locking else 'control'}: awards={awards} "
          f"balance={balance} elapsed={elapsed:.2f}s longest-gate-wait={max(fund_gate.waits, default=0) * 1000:.0f}ms")

    if not locking:
        assert awards > 1 and balance < 0, f"the control run must overspend, but {awards} award(s), ${balance} left"
        return

    assert awards == 1
    assert balance == Decimal("0.00")
    assert sum(o.error is None for o in outcomes) == 1
    assert sum(isinstance(o.error, FundInsufficient) for o in outcomes) == CHECKOUTS - 1
    # Serialized by the lock: the first award saw the half-fee, every later one saw nothing left.
    assert sorted(fund_gate.observed, reverse=True) == [HALF_FEE] + [Decimal("0.00")] * (CHECKOUTS - 1)
