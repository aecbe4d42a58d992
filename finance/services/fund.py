"""Pass the Buck: the scholarship fund's ledger (ARCHITECTURE §5).

Every change is a new ``FundEntry`` — donation (+), award (−), award returned (+), adjustment (±,
with a reason and who made it); the balance is their sum and no entry is ever edited or deleted.
Each entry's ``dedupe_key`` names its cause (``donation:<payment id>``, ``award:<registration
id>``, ``award-return:<registration id>``, ``adjust:…``), so a cause is booked once however often
a service is called.

Money out (an award, a negative adjustment) locks the ``Fund`` row first and reads the balance
under that lock, so two checkouts can never spend the same dollars and the balance never goes
below zero. Money in needs no lock. Callers that also lock courses or registrations lock those
first and the fund row last (one order for every locker: no deadlocks).

A seat's share of the fund is also stored on its registration (``fund_paid``, ``fund_returned``,
so that enrollment never reads this ledger): every entry booked for a registration rewrites it,
in the same transaction (``_share_sync``), on that registration and on every one its seat was
transferred to.
"""

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from classes.models import Course
from core.locking import locked_atomic
from enrollment.models import Registration
from enrollment.services.fund_share import registration_fund_share_set

from ..errors import PaymentError
from ..limits import FUND_MAX_AMOUNT
from ..models import Fund, FundEntry, Payment

K = FundEntry.Kind
S = Registration.Status

#: Row locking on the fund. Only the race tests' control run switches it off, to show that
#: without it two awards spend the same dollars (and so that the race test can fail).
LOCKING = True

#: The largest amount an entry can hold (``DecimalField(max_digits=10, decimal_places=2)``).
MAX_AMOUNT = FUND_MAX_AMOUNT
ZERO = Decimal("0.00")


class FundError(PaymentError):
    default_message = "The Pass the Buck fund could not be changed."


class FundInsufficient(FundError):
    """The fund holds less than the award (or a negative adjustment) asks for."""

    default_message = "The Pass the Buck fund does not have enough money for this."


class FundInvalidAmount(FundError):
    default_message = "Enter an amount in dollars and cents."


class FundNotReturnable(FundError):
    default_message = "Only the award of a cancelled registration (or a cancelled course) goes back to the fund."


def _amount(value, *, signed: bool = False) -> Decimal:
    """A valid entry amount: a ``Decimal`` (never a float, int or text), whole cents, not zero,
    within the column; positive unless ``signed``."""
    if not isinstance(value, Decimal):
        raise FundInvalidAmount(f"The amount must be a Decimal, not {type(value).__name__}.")
    try:
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise FundInvalidAmount("The amount must be whole cents.")
    except InvalidOperation as exc:  # too many digits to quantize
        raise FundInvalidAmount(f"The amount must be at most {MAX_AMOUNT}.") from exc
    if value == 0:
        raise FundInvalidAmount("The amount must not be zero.")
    if value < 0 and not signed:
        raise FundInvalidAmount("The amount must be more than zero.")
    if abs(value) > MAX_AMOUNT:
        raise FundInvalidAmount(f"The amount must be at most {MAX_AMOUNT}.")
    return value.quantize(Decimal("0.01"))


def fund_balance(fund: Fund | None = None) -> Decimal:
    """The fund's balance: the sum of its entries. Locks nothing (an award reads it again under
    the fund row's lock)."""
    fund = fund or Fund.current()
    total = FundEntry.objects.filter(fund=fund).aggregate(total=Sum("amount"))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


def _lock_fund(fund: Fund | None) -> Fund:
    """Lock the fund row (caller holds a transaction) and return it."""
    pk = (fund or Fund.current()).pk
    qs = Fund.objects.filter(pk=pk)
    return (qs.select_for_update() if LOCKING else qs).get()


def _write(**fields) -> FundEntry | None:
    """Insert one entry; None if its dedupe key was written first by a concurrent caller."""
    try:
        with transaction.atomic():
            return FundEntry.objects.create(**fields)
    except IntegrityError:
        if FundEntry.objects.filter(dedupe_key=fields["dedupe_key"]).exists():
            return None
        raise


def fund_donation_record(*, amount: Decimal, dedupe_key: str, payment: Payment | None = None, by=None,
                         reason: str = "", now: dt.datetime | None = None) -> FundEntry:
    """Book a donation (+) once per ``dedupe_key`` (``donation:<payment id>`` for one that came
    with a payment); a repeat returns the entry already booked. Locks nothing: money in can never
    overspend the fund. After commit, the scholarship waitlist is offered what the fund now holds."""
    amount = _amount(amount)
    if not dedupe_key:
        raise FundError("A donation needs a dedupe key naming its cause.")
    existing = FundEntry.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    entry = _write(fund=Fund.current(), kind=K.DONATION, amount=amount, payment=payment, created_by=by,
                   reason=reason[:300], dedupe_key=dedupe_key, created_at=now or timezone.now())
    if entry is not None:
        transaction.on_commit(_offer_scholarship_waits, robust=True)
    return entry or FundEntry.objects.get(dedupe_key=dedupe_key)


def _offer_scholarship_waits() -> None:
    """After a donation commits: the scholarship waitlist may be served now (a Celery task; the
    periodic returns sweep runs the same offer, so a lost task loses nothing)."""
    from celery import current_app  # by name (``finance.tasks``): services never import the tasks that call them

    current_app.send_task("finance.scholarship_waits_offer")


def fund_award(*, registration: Registration, amount: Decimal, by=None, reason: str = "",
               payment: Payment | None = None, now: dt.datetime | None = None) -> FundEntry:
    """Pay ``amount`` of ``registration``'s fee from the fund (a − entry), once per registration:
    a repeat returns the award already made.

    Locks: the ``Fund`` row (``SELECT … FOR UPDATE``), then reads the balance under it, so two
    awards never spend the same dollars; raises :class:`FundInsufficient` (nothing written) when
    the balance is less than ``amount``. Lock courses and registrations before calling this: the
    award is also written on the registration (``fund_paid``, ``_share_sync``), in this transaction.
    """
    amount = _amount(amount)
    if registration.status not in Registration.ACTIVE:
        raise FundError(f"A {registration.get_status_display().lower()} registration gets no award.")
    key = f"award:{registration.pk}"
    with locked_atomic():
        fund = _lock_fund(None)
        existing = FundEntry.objects.filter(dedupe_key=key).first()
        if existing is not None:
            return existing
        balance = fund_balance(fund)
        if balance < amount:
            raise FundInsufficient(
                f"The Pass the Buck fund has ${balance} left; this scholarship needs ${amount}."
            )
        entry = _write(fund=fund, kind=K.AWARD, amount=-amount, registration=registration, created_by=by,
                       payment=payment, reason=reason[:300], dedupe_key=key, created_at=now or timezone.now())
        _share_sync(registration.pk, known=(registration,))
    return entry or FundEntry.objects.get(dedupe_key=key)


#: A registration in one of these states no longer uses its seat: its award goes back.
RETURNABLE = (S.CANCELLED, S.EXPIRED)


def _returnable(registration: Registration) -> bool:
    """The seat no longer uses its award: cancelled, ran out, or its course was cancelled. A
    transferred registration is not: its seat (and its award) moved to the new registration."""
    if registration.status == S.TRANSFERRED:
        return False
    return registration.status in RETURNABLE or registration.course.status == Course.Status.CANCELLED


def _holder(registration: Registration) -> Registration:
    """Where a seat is now: the registration it was transferred to, to the end of the chain."""
    seen = {registration.pk}
    while registration.status == S.TRANSFERRED:
        following = Registration.objects.select_related("course").filter(transferred_from_id=registration.pk).first()
        if following is None or following.pk in seen:
            break
        seen.add(following.pk)
        registration = following
    return registration


def _lineage_award(registration: Registration) -> FundEntry | None:
    """The award of this seat: made for the registration or for one it was transferred from."""
    ids, current = [], registration
    while current is not None and current.pk not in ids:
        ids.append(current.pk)
        current = current.transferred_from
    return FundEntry.objects.filter(kind=K.AWARD, registration_id__in=ids).order_by("pk").first()


def _share_sync(registration_id: int, *, known: tuple[Registration, ...] = ()) -> None:
    """Store the seat's share of the fund on the registrations that show it (the facts the
    registration keeps for enrollment: ``fund_paid``, ``fund_returned``), in the caller's
    transaction and under its locks: on the registration an entry was booked for, and on every
    registration its seat was transferred to (to the end of the chain). Each one's values are the
    awards (−, paid) and the other entries (+, returned) booked for it and for the registrations
    it was transferred from. ``known``: instances the caller holds, updated in place when they are
    in the chain (the rows are saved either way)."""
    known_by_pk = {r.pk: r for r in known if r is not None and r.pk is not None}
    ids, current = [], registration_id
    while current is not None and current not in ids:  # back to the first registration of the seat
        ids.append(current)
        current = Registration.objects.filter(pk=current).values_list("transferred_from_id", flat=True).first()
    node = known_by_pk.get(registration_id) or Registration.objects.get(pk=registration_id)
    while True:
        sums = FundEntry.objects.filter(registration_id__in=ids).aggregate(
            paid=Sum("amount", filter=Q(amount__lt=0)), returned=Sum("amount", filter=Q(amount__gt=0)))
        paid, returned = -(sums["paid"] or ZERO), sums["returned"] or ZERO
        registration_fund_share_set(registration=node, paid=paid, returned=returned)
        for other in known:  # another instance of the same row the caller holds
            if other is not None and other is not node and other.pk == node.pk:
                other.fund_paid, other.fund_returned = node.fund_paid, node.fund_returned
        following = Registration.objects.filter(transferred_from_id=node.pk).values_list("pk", flat=True).first()
        if following is None or following in ids:
            return
        ids.append(following)
        node = known_by_pk.get(following) or Registration.objects.get(pk=following)


def _return_reason(registration: Registration) -> str:
    if registration.course.status == Course.Status.CANCELLED:
        return "The course was cancelled."
    if registration.status == S.EXPIRED:
        return "The seat was not paid for in time."
    return "The registration was cancelled."


def fund_award_return(*, registration: Registration, by=None, reason: str = "",
                      now: dt.datetime | None = None) -> FundEntry | None:
    """Give the award of a cancelled or expired registration (or one in a cancelled course) back
    to the fund (a + entry of the same size), once; None when the registration had no award. A
    seat transferred to another class keeps its award: the award (made for the first
    registration) is returned when the seat where it is now no longer uses it. A repeat returns
    the entry already booked.

    The scholarship payment that carried the award gets a refund of the same amount, done at
    once (``award-return:<registration id>``): the fund's entries and the payment records tie
    out (awards − returns = scholarship payments − their refunds).

    Locks: the registration's row, then the ``Fund`` row (returns and awards of one registration
    never interleave, and a late payment that confirms the seat under the same row lock never
    confirms one whose award went back: the return is written on that row, ``fund_returned``, in
    this transaction, and on the rows of the registrations the seat came from)."""
    given = registration
    registration = _holder(Registration.objects.select_related("course").get(pk=registration.pk))
    if not _returnable(registration):
        raise FundNotReturnable()
    with locked_atomic():
        # The seat's row first (then the fund's): a late payment confirming it holds this lock
        # while it checks that no award went back, so the two never cross; re-read under it.
        qs = Registration.objects.select_related("course").filter(pk=registration.pk)
        registration = (qs.select_for_update(of=("self",)) if LOCKING else qs).get()
        if not _returnable(registration):
            raise FundNotReturnable()
        fund = _lock_fund(None)
        award = _lineage_award(registration)
        if award is None:
            return None
        key = f"award-return:{award.registration_id}"  # one return per award, wherever the seat moved
        existing = FundEntry.objects.filter(dedupe_key=key).first()
        if existing is not None:
            return existing
        reason = reason or _return_reason(registration)
        if award.payment_id is not None:
            _refund_scholarship(award, key=key, reason=reason, by=by, now=now or timezone.now())
        entry = _write(fund=fund, kind=K.AWARD_RETURNED, amount=-award.amount, registration_id=award.registration_id,
                       created_by=by, reason=reason[:300], dedupe_key=key, created_at=now or timezone.now())
        # Booked for the award's registration: it, and every registration the seat moved to since
        # (the one returned for, locked above, among them), show the return.
        _share_sync(award.registration_id, known=(registration, given))
    return entry or FundEntry.objects.get(dedupe_key=key)


def _refund_scholarship(award: FundEntry, *, key: str, reason: str, by, now: dt.datetime) -> None:
    """The scholarship payment's money goes back to the fund: a refund row, done at once."""
    from ..models import Refund

    if Refund.objects.filter(dedupe_key=key).exists():
        return
    Refund.objects.create(payment_id=award.payment_id, registration_id=award.registration_id, amount=-award.amount,
                          status=Refund.Status.DONE, reason=f"Returned to Pass the Buck: {reason}"[:300],
                          reference="Pass the Buck", dedupe_key=key, issued_by=by, done_at=now)


def fund_adjust(*, amount: Decimal, reason: str, by, key: str = "", now: dt.datetime | None = None) -> FundEntry:
    """A correction by staff (±), with a required reason and who made it.

    ``key`` (the adjustment form's one-time key) books a double-clicked or replayed submission
    once: a repeat returns the entry already booked.

    Locks: the ``Fund`` row; a negative adjustment may not take the balance below zero
    (:class:`FundInsufficient`, nothing written)."""
    amount = _amount(amount, signed=True)
    reason = (reason or "").strip()
    if not reason:
        raise FundError("An adjustment needs a reason.")
    dedupe_key = f"adjust:{key[:100]}" if key else f"adjust:{uuid.uuid4().hex}"
    with locked_atomic():
        fund = _lock_fund(None)
        existing = FundEntry.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
        if amount < 0:
            balance = fund_balance(fund)
            if balance + amount < 0:
                raise FundInsufficient(f"The Pass the Buck fund has ${balance}; it cannot go below zero.")
        return FundEntry.objects.create(fund=fund, kind=K.ADJUSTMENT, amount=amount, reason=reason[:300],
                                        created_by=by, dedupe_key=dedupe_key, created_at=now or timezone.now())


def fund_returns_sweep(*, now: dt.datetime | None = None) -> list[FundEntry]:
    """Return every award whose seat is cancelled (by the patron, or with its course) or expired
    (its hold or offer ran out unpaid) and not yet returned; a transferred seat is judged where it
    is now. Idempotent: running it twice, or at once, books each return once. Locks the fund row
    per return (``fund_award_return``)."""
    now = now or timezone.now()
    due = (
        FundEntry.objects.filter(kind=K.AWARD)
        .filter(Q(registration__status__in=[*RETURNABLE, S.TRANSFERRED])
                | Q(registration__course__status=Course.Status.CANCELLED))
        .exclude(registration__fund_entries__kind=K.AWARD_RETURNED)
        .select_related("registration", "registration__course")
        .order_by("pk")
    )
    returned = []
    for award in due:
        if not _returnable(_holder(award.registration)):
            continue  # transferred, and the seat it moved to is still in use
        try:
            entry = fund_award_return(registration=award.registration, now=now)
        except FundNotReturnable:
            continue  # confirmed meanwhile (a late payment took the seat)
        if entry is not None:
            returned.append(entry)
    return returned
