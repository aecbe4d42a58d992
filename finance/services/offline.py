"""Cash and check at the front desk: registrations taken by phone, walk-in or the drop box.

- ``payment_record_offline``: a cash or check payment on an order, never more than is due,
  recorded as succeeded with the staff member who took it and when.
- ``desk_register``: the desk's one entry point. The seats go through the same door as online
  checkout (``enrollment.services.order_place``, confirmed at once, channel "desk"); the money
  taken (all, part, or nothing yet: a balance due) is recorded in the same transaction, so a
  payment that is refused leaves no registration behind.
- ``desk_receipt_queue``: the receipt e-mail (``templates/emails/desk_receipt``) through the outbox.
- ``order_receipt``: what a receipt shows (the desk's order page, the printed receipt and the e-mail).

Money is ``Decimal`` dollars with at most two decimals; floats are refused.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from core.locking import lock_timeout
from core.models import OutboxMessage, SiteOptions
from core.money import CENT, MAX_AMOUNT
from core.outbox import outbox_enqueue
from enrollment.models import Order, Registration
from enrollment.services import AttendeeInput, BuyerInput

from ..balances import (
    OrderBalance,
    order_balance,
    order_patron_balance,
    registration_charge,
    registration_patron_charge,
)
from ..errors import NothingToPay, PaymentError
from ..models import Payment, Refund
from ..refund_words import note_of_refunds
from .checkout import checkout_place

log = logging.getLogger(__name__)

P = Payment.Provider
OFFLINE_PROVIDERS = (P.CASH, P.CHECK)
#: No desk payment is ever this large; anything above is a typing slip (and beyond what is due).
REFERENCE_MAX = 120
PAYER_MAX = 160

#: The order-row lock of ``payment_record_offline``. Only the race tests' control run switches
#: it off, to show that without it two desk payments at once can take more than is due.
LOCKING = True


class OfflinePaymentInvalid(PaymentError):
    """A desk payment that cannot be recorded as given; ``field`` names the input at fault
    (``amount``, ``provider``, ``reference`` or ``payer``), None for the payment as a whole."""

    default_message = "The payment could not be recorded."

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.field = field


def clean_amount(value, *, allow_zero: bool = False) -> Decimal:
    """An amount of money as given (a ``Decimal``, an ``int`` or a string), checked: a finite
    number, at most two decimals, above zero (or zero when ``allow_zero``), at most
    ``MAX_AMOUNT``. Returned with exactly two decimals. Floats are refused (they lose cents)."""
    if isinstance(value, float | bool) or value is None:
        raise OfflinePaymentInvalid("Enter the amount in dollars and cents, like 25 or 25.50.", field="amount")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise OfflinePaymentInvalid("Enter the amount in dollars and cents, like 25 or 25.50.",
                                    field="amount") from None
    if not amount.is_finite():
        raise OfflinePaymentInvalid("Enter the amount in dollars and cents, like 25 or 25.50.", field="amount")
    if amount.as_tuple().exponent < -2:
        raise OfflinePaymentInvalid("Enter the amount with at most 2 decimals (dollars and cents).", field="amount")
    if amount < 0:
        raise OfflinePaymentInvalid("The amount cannot be negative.", field="amount")
    if amount == 0 and not allow_zero:
        raise OfflinePaymentInvalid("Enter an amount greater than zero.", field="amount")
    if amount > MAX_AMOUNT:
        raise OfflinePaymentInvalid("That amount is too large. Check it and enter it again.", field="amount")
    return amount.quantize(CENT)


def _clean_details(provider: str, reference: str, payer: str) -> tuple[str, str]:
    if provider not in OFFLINE_PROVIDERS:
        raise OfflinePaymentInvalid("Choose cash or check.", field="provider")
    reference = " ".join((reference or "").split())
    payer = " ".join((payer or "").split())
    if provider == P.CHECK and not reference:
        raise OfflinePaymentInvalid("Enter the check number.", field="reference")
    if len(reference) > REFERENCE_MAX:
        raise OfflinePaymentInvalid(f"Use at most {REFERENCE_MAX} characters.", field="reference")
    if len(payer) > PAYER_MAX:
        raise OfflinePaymentInvalid(f"Use at most {PAYER_MAX} characters.", field="payer")
    return reference, payer


def payment_record_offline(
    *, order: Order, registrations: list[Registration], provider: str, amount, reference: str = "",
    payer: str = "", taken_by, now: dt.datetime | None = None,
) -> Payment:
    """Record cash or a check taken at the desk for ``registrations`` of ``order``: a succeeded
    ``Payment`` with who took it (``taken_by``) and when (``now``). Partial payments are fine;
    more than the order's balance due is refused (give change; never keep a credit by accident).

    Checks: the amount (``clean_amount``), cash or check, a check number for checks, that the
    registrations belong to the order, and — under the lock — that something is due and the
    amount is at most that. Raises ``OfflinePaymentInvalid`` (with ``field``), ``NothingToPay``.

    Locks: the order row, for the balance check and the write, so two desk payments on the same
    order at once can never together take more than is due (``core.locking.Busy`` on timeout).
    Call it on its own or inside the caller's transaction (``desk_register``).
    """
    if taken_by is None:
        raise ValueError("taken_by: the staff member who took the money is required")
    now = now or timezone.now()
    amount = clean_amount(amount)
    reference, payer = _clean_details(provider, reference, payer)
    ids = sorted({r.pk for r in registrations})
    if not ids:
        raise OfflinePaymentInvalid("There is nothing on this order to pay for.")
    with transaction.atomic(), lock_timeout():
        orders = Order.objects.select_for_update() if LOCKING else Order.objects
        order = orders.get(pk=order.pk)
        rows = list(Registration.objects.filter(pk__in=ids, order=order).order_by("pk"))
        if len(rows) != len(ids):
            raise OfflinePaymentInvalid("A registration paid for is not part of this order.")
        due = order_balance(order).due
        if due <= 0:
            raise NothingToPay("Nothing is due on this order.")
        if amount > due:
            raise OfflinePaymentInvalid(
                f"Only ${due:,.2f} is due on this order. Take at most that (give change for the rest).",
                field="amount",
            )
        payment = Payment.objects.create(
            order=order, provider=provider, amount=amount, status=Payment.Status.SUCCEEDED, reference=reference,
            payer=payer, taken_by=taken_by, succeeded_at=now,
        )
        payment.registrations.set(rows)
    log.info("desk payment %s: %s on order %s by user %s", payment.pk, provider, order.pk, taken_by.pk)
    return payment


@dataclass
class DeskResult:
    order: Order
    registrations: list[Registration]
    payment: Payment | None
    balance: OrderBalance


def desk_register(
    *, buyer: BuyerInput, attendees: list[AttendeeInput], provider: str, amount=None, reference: str = "",
    payer: str = "", actor, override_reason: str = "", checkout_key: str | None = None,
    now: dt.datetime | None = None,
) -> DeskResult:
    """Register at the desk and record the money taken, all in ONE transaction.

    The seats are placed by ``order_place`` (channel "desk", confirmed at once, the staff member
    as the actor of every audit row; ``override_reason`` — only for staff allowed to override —
    lets a registration past the cutoff or over capacity through and is written to the audit
    trail). Then ``amount`` is recorded as a cash or check payment: ``None`` takes the order's
    whole total, ``0`` takes nothing (the total stays as balance due). For a check without a
    payer, the buyer is the payer. ``checkout_key`` (the desk form's one-time key) makes a
    double-clicked submission raise ``DuplicateCheckout`` with the order the first one placed.

    All or nothing: an ``EnrollmentError`` (a full or closed class, a duplicate attendee…) or a
    refused payment (``OfflinePaymentInvalid``, e.g. more than the total) rolls everything back,
    so no order, registration, audit row or message is left behind.

    Locks: the course rows (``order_place``), then the new order row (``payment_record_offline``).
    """
    if actor is None:
        raise ValueError("actor: the staff member registering is required")
    now = now or timezone.now()
    # Cheap checks first, before any lock is taken.
    if amount is not None:
        amount = clean_amount(amount, allow_zero=True)
    if amount is None or amount > 0:
        if provider not in OFFLINE_PROVIDERS:
            raise OfflinePaymentInvalid("Choose cash or check.", field="provider")
        if provider == P.CHECK and not payer.strip():
            payer = f"{buyer.first_name} {buyer.last_name}".strip()
        if amount is not None:
            reference, payer = _clean_details(provider, reference, payer)
    with transaction.atomic():
        # Scholarships the staff member granted (``finance.grant_scholarship``; the view only
        # passes them for staff who may) are awarded in this same transaction; desk=True: no
        # per-semester limit, staff judge.
        placed = checkout_place(
            buyer=buyer, attendees=attendees, now=now, channel=Order.Channel.DESK, actor=actor,
            actor_label=actor.get_username(), confirm_now=True, override_reason=override_reason,
            checkout_key=checkout_key, desk=True,
        )
        order = placed.order
        balance = order_balance(order)
        take = balance.due if amount is None else amount
        payment = None
        if take > 0:
            payment = payment_record_offline(
                order=order, registrations=placed.confirmed, provider=provider, amount=take, reference=reference,
                payer=payer, taken_by=actor, now=now,
            )
            # The order is this transaction's own (no one else can see it yet): its balance after
            # the payment is the one before less what was taken; no need to read it again.
            balance = OrderBalance(charges=balance.charges, paid=balance.paid + payment.amount - payment.gift_amount,
                                   refunded=balance.refunded)
    log.info("desk registration: order %s, %s seats, by user %s", order.pk, len(placed.confirmed), actor.pk)
    return DeskResult(order=order, registrations=placed.confirmed, payment=payment, balance=balance)


def registrations_chargeable(order: Order) -> list[Registration]:
    """The registrations of ``order`` that carry a charge (what a further payment is for)."""
    rows = order.registrations.select_related("course", "course__semester").prefetch_related("course__meetings")
    return [r for r in rows.order_by("pk") if registration_charge(r) > 0]


# --- receipts ------------------------------------------------------------------------------

@dataclass
class ReceiptLine:
    registration: Registration
    charge: Decimal
    first_meeting: dt.datetime | None


@dataclass
class Receipt:
    order: Order
    site: SiteOptions
    lines: list[ReceiptLine]
    payments: list[Payment]
    refunds: list[Refund]
    balance: OrderBalance
    issued_at: dt.datetime

    @property
    def payment_count(self) -> int:
        return len(self.payments)

    @property
    def refund_timings(self) -> list[str]:
        """The timing sentence of each way a refund still on its way comes back (each once)."""
        pending = [r for r in self.refunds if r.status == Refund.Status.PENDING]
        return note_of_refunds(pending).timings


def order_receipt(order: Order, *, split: bool = False, now: dt.datetime | None = None) -> Receipt:
    """What a receipt shows: each registration (attendee, class, first meeting, status, charge),
    the succeeded payments (method, check number, payer, who took it, when), refunds, and the
    balance. A handful of queries, whatever the order's size.

    By default it is the patron's receipt: each seat at the patron's own price, the patron's own
    payments and refunds — no Pass the Buck award, as a line, an amount or a label; the balance due
    is the same. ``split=True`` (only for ``finance.view_fundentry``) shows the full fee and the
    fund's payments too."""
    registrations = (
        order.registrations.select_related("course", "course__semester", "course__venue")
        .prefetch_related("course__meetings").order_by("pk")
    )
    charge_of = registration_charge if split else registration_patron_charge
    lines = []
    for r in registrations:
        meetings = r.course.ordered_meetings()
        lines.append(ReceiptLine(registration=r, charge=charge_of(r),
                                 first_meeting=meetings[0].starts_at if meetings else None))
    payments = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).select_related("taken_by")
    refunds = Refund.objects.filter(payment__order=order).exclude(status=Refund.Status.FAILED).select_related("payment")
    if not split:
        payments = payments.exclude(provider=Payment.Provider.SCHOLARSHIP)
        refunds = refunds.exclude(payment__provider=Payment.Provider.SCHOLARSHIP)
    return Receipt(order=order, site=SiteOptions.current(), lines=lines,
                   payments=list(payments.order_by("succeeded_at", "pk")), refunds=list(refunds.order_by("pk")),
                   balance=order_balance(order) if split else order_patron_balance(order),
                   issued_at=now or timezone.now())


def desk_receipt_queue(*, order: Order, actor=None, now: dt.datetime | None = None) -> OutboxMessage | None:
    """Queue the receipt e-mail for ``order`` (``templates/emails/desk_receipt``) through the
    outbox. The dedupe key holds the number of payments so far (``desk-receipt:<order>:<n>``):
    pressing the button twice sends one receipt; after a further payment a new one can be sent.

    Returns the queued message, or None when the order has no e-mail address or this receipt
    was already queued. No lock: the outbox's unique dedupe key settles a double click.
    """
    if not order.email:
        return None
    with transaction.atomic():
        receipt = order_receipt(order, now=now)
        context = {"site": receipt.site, "order": order, "receipt": receipt, "buyer_first_name": order.first_name}
        message = outbox_enqueue(to=order.email, template="desk_receipt", context=context,
                                 dedupe_key=f"desk-receipt:{order.pk}:{receipt.payment_count}")
    if message is not None:
        log.info("desk receipt queued: order %s, message %s, by user %s", order.pk, message.pk,
                 getattr(actor, "pk", None))
    return message

