"""Money steps staff take in the back office: a refund they decide, and the price difference of
a transfer.

- ``refund_create``: give back part or all of what a registration paid, with a reason. Never more
  than was paid for it less what was already refunded; more than the refund policy allows needs an
  override reason (the view lets only staff with ``finance.refund_outside_policy`` give one). The
  amount is taken from the registration's payments, newest first: the card part is refunded on
  Stripe after commit (``refund_issue``), a cash or check part waits for finance as "to issue"
  (closed with the refund check number by ``refund_mark_issued``). Each row's dedupe key is
  ``staff:<registration id>:<form key>`` (``…:<payment id>`` for a second payment), the form key
  being the refund form's one-time key: a replayed post raises ``DuplicateRefund`` and refunds
  nothing.
- ``transfer_settle``: right after ``enrollment.services.registration_transfer``. The old
  registration's payments now also cover the new one (its share moves with it, see
  ``finance.selectors.payment_shares``); paid more than the new class costs → the difference is
  refunded (``transfer:<new registration id>``); less → the order's balance shows what is due.
- ``transfers_sweep``: the safety net that settles a transfer whose settlement did not run.
"""

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from classes.models import Course
from core.locking import Busy, lock_timeout
from core.money import CENT, ZERO, format_money
from enrollment.models import Registration
from enrollment.selectors import refund_due

from .. import selectors
from ..errors import PaymentError
from ..limits import REFUND_OVERRIDE_MAX, REFUND_REASON_MAX
from ..models import Payment, Refund
from .refunds import refund_issue

log = logging.getLogger(__name__)

S = Registration.Status
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: The sweep looks for unsettled transfers this far back.
TRANSFER_LOOKBACK = dt.timedelta(days=120)
REASON_MAX = REFUND_REASON_MAX
OVERRIDE_MAX = REFUND_OVERRIDE_MAX


class RefundRefused(PaymentError):
    """A staff refund that cannot be made as asked; ``field`` names the input at fault
    (``amount``, ``reason``, ``override_reason``), None for the refund as a whole. Nothing changed."""

    default_message = "The refund could not be made."

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.field = field


class DuplicateRefund(PaymentError):
    """The same refund form was posted again: ``refunds`` are the rows the first post made."""

    default_message = "This refund was already recorded."

    def __init__(self, refunds: list[Refund]):
        super().__init__()
        self.refunds = refunds


@dataclass(frozen=True)
class RefundLimits:
    """What can be given back for a registration now.

    ``paid``: its share of its succeeded payments; ``refunded``: refunds made or owed for it;
    ``available``: what its payments can still give back (never above ``paid − refunded``);
    ``policy``: what the refund policy still owes it (less the policy and staff refunds made for
    it); ``within_policy``: the most that can be
    refunded without an override."""

    paid: Decimal
    refunded: Decimal
    available: Decimal
    policy: Decimal

    @property
    def within_policy(self) -> Decimal:
        return max(ZERO, min(self.policy, self.available))


def policy_owed(registration: Registration) -> Decimal:
    """What the refund policy gives back for a registration: ``enrollment.selectors.refund_due``
    (cancelled before the week-out cutoff → its price), or its price when the program cancelled
    its class (the library keeps nothing, as in ``finance.balances.registration_charge``)."""
    if registration.course.status == Course.Status.CANCELLED and registration.confirmed_at is not None:
        return registration.patron_price
    return refund_due(registration)


def _payments_newest_first(registration: Registration) -> list[tuple[Payment, Decimal]]:
    rows = selectors.registration_payments(registration)
    return sorted(rows, key=lambda row: (row[0].succeeded_at or row[0].created_at, row[0].pk), reverse=True)


def _available(registration: Registration, rows: list[tuple[Payment, Decimal]]) -> list[tuple[Payment, Decimal]]:
    """Each payment with what it can still give back for the registration (its share less the
    refunds already made from it for the registration). A Pass the Buck scholarship payment gives
    nothing back to the patron (its award goes back to the fund), so it is left out."""
    return [(payment, share - selectors.registration_refunded(registration, payment_id=payment.pk))
            for payment, share in rows if payment.provider != Payment.Provider.SCHOLARSHIP]


def refund_limits(registration: Registration) -> RefundLimits:
    """What can be refunded for ``registration`` now (see ``RefundLimits``). Reads only."""
    payments = [row for row in selectors.registration_payments(registration)
                if row[0].provider != Payment.Provider.SCHOLARSHIP]  # the patron's own money only
    rows = _available(registration, payments)
    paid = sum((share for _, share in payments), ZERO)
    refunded = selectors.registration_refunded(registration, patron_only=True)
    available = min(sum((max(ZERO, a) for _, a in rows), ZERO), paid - refunded)
    # What policy refunds and staff refunds of this very registration gave back already (those made
    # before a transfer were for the old class: the new one's policy starts afresh).
    given = (
        Refund.objects.filter(registration=registration)
        .filter(Q(dedupe_key__startswith="cancel:") | Q(dedupe_key__startswith="staff:"))
        .aggregate(total=Sum("amount"))["total"] or ZERO
    )
    policy = policy_owed(registration) - given
    return RefundLimits(paid=paid, refunded=refunded, available=max(ZERO, available), policy=max(ZERO, policy))


def _clean_amount(value) -> Decimal:
    if isinstance(value, float | bool) or value is None:
        raise RefundRefused("Enter the amount in dollars and cents, like 10 or 12.50.", field="amount")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RefundRefused("Enter the amount in dollars and cents, like 10 or 12.50.", field="amount") from None
    if not amount.is_finite():
        raise RefundRefused("Enter the amount in dollars and cents, like 10 or 12.50.", field="amount")
    if amount.as_tuple().exponent < -2:
        raise RefundRefused("Enter the amount with at most 2 decimals (dollars and cents).", field="amount")
    if amount <= 0:
        raise RefundRefused("Enter an amount greater than zero.", field="amount")
    return amount.quantize(CENT)


def _refund_row(*, payment: Payment, registration: Registration, amount: Decimal, key: str, reason: str,
                actor) -> Refund | None:
    """A pending refund row for ``key`` (None when the key is taken). ``issued_by`` is the staff
    member who decided it (for cash and check, ``refund_mark_issued`` later records who handed
    it out)."""
    try:
        with transaction.atomic():
            return Refund.objects.create(payment=payment, registration=registration, amount=amount,
                                         reason=reason[:300], dedupe_key=key, issued_by=actor)
    except IntegrityError:
        return None


def _spread(*, registration: Registration, rows: list[tuple[Payment, Decimal]], amount: Decimal, key: str,
            reason: str, actor) -> list[Refund]:
    """Write refunds for ``amount`` across ``rows`` (payment, what it can still give back), in
    order; card refunds are made on Stripe after commit. The first row's key is ``key``, the
    others ``key:<payment id>``. Caller holds the registration's lock."""
    made: list[Refund] = []
    left = amount
    for payment, available in rows:
        if left <= 0:
            break
        part = min(left, available)
        if part <= 0:
            continue
        refund = _refund_row(payment=payment, registration=registration, amount=part,
                             key=key if not made else f"{key}:{payment.pk}", reason=reason, actor=actor)
        if refund is None:
            continue
        made.append(refund)
        left -= part
        if payment.provider == Payment.Provider.CARD:
            transaction.on_commit(partial(refund_issue, refund_id=refund.pk), robust=True)
    if left > 0:  # the limits said it was there: something moved under us; undo all of it
        raise RefundRefused("The payments of this registration changed meanwhile. Please try again.")
    return made


def refund_create(*, registration: Registration, amount, reason: str, actor, override_reason: str = "",
                  form_key: str = "", now: dt.datetime | None = None) -> list[Refund]:
    """Refund ``amount`` of what ``registration`` paid, for ``reason``; returns the refund rows
    (one per payment it is taken from, newest payment first).

    Refused (``RefundRefused`` with the field, nothing written): an amount that is not a positive
    number of dollars and cents, more than can be given back (paid less refunded), a blank
    reason, more than the policy allows (``refund_limits(...).within_policy``) without an
    ``override_reason`` — the caller checks ``finance.refund_outside_policy`` before passing one —,
    a transferred registration (its money moved to the new one). The same ``form_key`` again →
    ``DuplicateRefund`` (nothing more is refunded).

    Card parts are refunded on Stripe after commit (``refund_issue``, idempotent, retried by
    ``refunds_sweep``); cash and check parts wait as "to issue".

    Locks: the registration row (two refunds of one registration queue and re-read the limits).
    """
    now = now or timezone.now()
    amount = _clean_amount(amount)
    reason = " ".join((reason or "").split())
    override_reason = " ".join((override_reason or "").split())
    if not reason:
        raise RefundRefused("Say why the money is given back.", field="reason")
    if len(reason) > REASON_MAX:
        raise RefundRefused(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if len(override_reason) > OVERRIDE_MAX:
        raise RefundRefused(f"Keep the override reason under {OVERRIDE_MAX} characters.", field="override_reason")
    if form_key and not FORM_KEY.match(form_key):
        raise RefundRefused("This form has expired. Please open the refund page again.")
    key = f"staff:{registration.pk}:{form_key or uuid.uuid4().hex}"
    with transaction.atomic(), lock_timeout():
        registration = (
            Registration.objects.select_for_update(of=("self",)).select_related("course", "order")
            .get(pk=registration.pk)
        )
        made = list(Refund.objects.filter(Q(dedupe_key=key) | Q(dedupe_key__startswith=f"{key}:")).order_by("pk"))
        if made:
            raise DuplicateRefund(made)
        if registration.status == S.TRANSFERRED:
            raise RefundRefused("This registration was transferred; its payments moved with it. Refund the "
                                "registration it was transferred to.", field="amount")
        limits = refund_limits(registration)
        if limits.available <= 0:
            raise RefundRefused("Nothing paid for this registration is left to refund.", field="amount")
        if amount > limits.available:
            raise RefundRefused(f"At most {format_money(limits.available)} can be refunded: what was paid for this "
                                "registration less what was already refunded.", field="amount")
        outside = amount > limits.within_policy
        if outside and not override_reason:
            raise RefundRefused(
                f"The refund policy allows {format_money(limits.within_policy) if limits.within_policy else '$0.00'}"
                " for this registration. A larger refund is outside policy and needs an override reason.",
                field="override_reason",
            )
        text = f"{reason} — outside policy: {override_reason}" if outside else reason
        rows = _available(registration, _payments_newest_first(registration))
        refunds = _spread(registration=registration, rows=rows, amount=amount, key=key, reason=text, actor=actor)
        log.info("registration %s: staff refund of %s in %s parts by user %s%s", registration.pk, amount,
                 len(refunds), getattr(actor, "pk", None), " (outside policy)" if outside else "")
    return list(Refund.objects.filter(pk__in=[r.pk for r in refunds]).select_related("payment").order_by("pk"))


def transfer_settle(*, old: Registration, new: Registration, actor=None, now: dt.datetime | None = None
                    ) -> list[Refund]:
    """Settle the price difference of a transfer (call it right after
    ``enrollment.services.registration_transfer``); returns the refunds made now.

    The old registration's succeeded payments are attributed to the new one as well (their share
    of the old one now belongs to the new one, ``finance.selectors.payment_shares``), so what was
    paid follows the seat. Paid (less refunds) more than the new registration's price → the
    difference is refunded, card payments first, key ``transfer:<new id>`` (``…:<payment id>`` for
    a second payment), card parts on Stripe after commit, cash and check parts "to issue". Paid
    less → nothing is written: ``order_balance`` shows the difference as due. Calling it twice,
    or concurrently, settles once.

    Locks: the new registration's row.
    """
    with transaction.atomic(), lock_timeout():
        new = (
            Registration.objects.select_for_update(of=("self",)).select_related("course", "order").get(pk=new.pk)
        )
        if new.transferred_from_id != old.pk:
            raise ValueError(f"registration {new.pk} was not transferred from {old.pk}")
        old = Registration.objects.select_related("course").get(pk=old.pk)
        for payment in Payment.objects.filter(registrations=old, status=Payment.Status.SUCCEEDED).exclude(
            registrations=new
        ):
            payment.registrations.add(new)
        rows = _available(new, selectors.registration_payments(new))
        # The patron's own money against the patron's own share of the new seat (a Pass the Buck
        # award moves with the seat and stays the fund's).
        patron_paid = sum((share for payment, share in selectors.registration_payments(new)
                           if payment.provider != Payment.Provider.SCHOLARSHIP), ZERO)
        over = min(sum((max(ZERO, a) for _, a in rows), ZERO),
                   patron_paid - selectors.registration_refunded(new, patron_only=True)) - new.patron_price
        if over <= 0:
            return []
        reason = (f"Transferred from “{old.course}” ({format_money(old.price)}) to “{new.course}” "
                  f"({format_money(new.price)}): the difference is refunded.")
        refunds = _spread(registration=new, rows=rows, amount=over, key=f"transfer:{new.pk}", reason=reason,
                          actor=actor)
        log.info("transfer %s → %s: %s refunded in %s parts", old.pk, new.pk, over, len(refunds))
    return list(Refund.objects.filter(pk__in=[r.pk for r in refunds]).select_related("payment").order_by("pk"))


def transfers_unsettled(*, since: dt.datetime) -> list[tuple[int, int]]:
    """(old id, new id) of transfers made since ``since`` whose new registration is not yet
    covered by every succeeded payment of the old one."""
    pairs = []
    for new_id, old_id in (
        Registration.objects.filter(transferred_from__isnull=False, created_at__gte=since)
        .order_by("pk").values_list("pk", "transferred_from_id")
    ):
        paid_old = set(Payment.objects.filter(registrations=old_id, status=Payment.Status.SUCCEEDED)
                       .values_list("pk", flat=True))
        paid_new = set(Payment.objects.filter(registrations=new_id).values_list("pk", flat=True))
        if paid_old - paid_new:
            pairs.append((old_id, new_id))
    return pairs


def transfers_sweep(*, now: dt.datetime | None = None) -> int:
    """The periodic safety net: settle transfers whose ``transfer_settle`` did not run (a lock
    timeout, a crash between the two calls). Returns how many were settled."""
    now = now or timezone.now()
    settled = 0
    for old_id, new_id in transfers_unsettled(since=now - TRANSFER_LOOKBACK):
        try:
            transfer_settle(old=Registration(pk=old_id), new=Registration(pk=new_id), now=now)
        except Busy:
            continue
        settled += 1
    return settled
