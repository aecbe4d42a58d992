"""Card payments through Stripe PaymentIntents.

- ``payment_start``: a PaymentIntent (and a pending ``Payment``) for what the order holds now;
  reloading the page reuses it.
- ``payment_confirm``: the one place a card payment becomes succeeded or failed. The browser's
  return and the webhook both call it; it re-reads the PaymentIntent from Stripe, locks the
  payment row and returns early when it is already succeeded, so whichever comes first wins and
  the other changes nothing.
- ``payment_confirm_local``: the half of Stripe.js that localstripe's fake one cannot do.
"""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.utils import timezone

from core.locking import locked_atomic
from core.money import ZERO, to_cents
from enrollment.models import Order, Registration
from enrollment.services import registrations_confirm_paid

from .. import gateway, selectors
from ..errors import AlreadyPaid, AmountMismatch, NothingToPay, PaymentNotFound, PaymentProcessing
from ..models import Payment
from . import notices
from .gifts import gift_record
from .intents import Outcome, intent_outcome
from .refunds import refund_create_once, refund_issue

log = logging.getLogger(__name__)

P = Payment.Status
S = Registration.Status

#: PaymentIntent states in which the patron can still (re)try paying it.
OPEN_INTENT = {"requires_payment_method", "requires_confirmation", "requires_action"}


@dataclass
class ConfirmResult:
    payment: Payment
    outcome: Outcome
    confirmed: list[Registration] = field(default_factory=list)
    lost: list[Registration] = field(default_factory=list)
    message: str = ""

    @property
    def paid(self) -> bool:
        return self.outcome in (Outcome.SUCCEEDED, Outcome.ALREADY)


def _idempotency_key(order: Order, attempt: int, registration_ids: list[int], cents: int) -> str:
    """Stripe's idempotency key for creating the PaymentIntent of the order's n-th card payment:
    a retried create (a timeout, a crash before our commit) gets the same intent back."""
    what = f"{order.token}:{attempt}:{'-'.join(map(str, registration_ids))}:{cents}"
    return "lc-payment-" + hashlib.sha256(what.encode()).hexdigest()[:40]


def payment_start(*, order: Order, now: dt.datetime | None = None) -> tuple[Payment, str]:
    """Make (or reuse) the card payment for what the order holds now; returns it and the
    PaymentIntent's client secret for Stripe.js.

    Covers the order's registrations that are held or offered and unexpired. A pending card
    payment for exactly those registrations and that amount is reused (its intent is re-read), so
    reloading the page never creates another PaymentIntent; pending payments for anything else are
    cancelled on Stripe and marked failed. ``payment.intent_status`` tells the page the intent's
    state ("requires_action": offer the bank's 3-D Secure step instead of the card field).

    Raises ``NothingToPay`` when nothing is due, ``AlreadyPaid`` when an intent of the order
    turns out to be paid already (it is confirmed here, through ``payment_confirm``),
    ``PaymentProcessing``, or ``GatewayUnavailable``.

    Locks: the order row, across the Stripe calls, so two page loads of one order never make two
    PaymentIntents (``core.locking.Busy`` when another holds it too long).
    """
    now = now or timezone.now()
    gateway.local_webhook_register()
    paid_meanwhile: list[str] = []
    result = None
    with locked_atomic():
        list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))
        due = selectors.registrations_payable(order, now=now)
        ids = [r.pk for r in due]
        amount = sum(selectors.registrations_due(due).values(), ZERO)
        gift = selectors.order_gift_due(order) if due else ZERO
        amount += gift
        pending = Payment.objects.filter(order=order, provider=Payment.Provider.CARD, status=P.PENDING)
        for payment in pending.prefetch_related("registrations").order_by("pk"):
            try:
                intent = gateway.intent_retrieve(payment.reference)
            except gateway.IntentMissing:
                log.warning("payment %s: Stripe does not know its intent; marked failed", payment.pk)
                payment.status, payment.failure_message = P.FAILED, "unknown to the payment service"
                payment.save(update_fields=["status", "failure_message", "updated_at"])
                continue
            same = (sorted(r.pk for r in payment.registrations.all()) == ids and payment.amount == amount
                    and payment.gift_amount == gift)
            if intent.status == "succeeded" or intent.status == "processing":
                paid_meanwhile.append(payment.reference)  # settled by payment_confirm below
            elif same and result is None and intent.status in OPEN_INTENT:
                payment.intent_status = intent.status  # the page offers 3-D Secure for "requires_action"
                result = (payment, intent.client_secret)
            else:
                if intent.status in OPEN_INTENT:
                    gateway.intent_cancel(payment.reference)
                payment.status = P.FAILED
                payment.failure_message = "replaced: the seats held changed" if intent.status != "canceled" \
                    else "canceled"
                payment.save(update_fields=["status", "failure_message", "updated_at"])
        if result is None and due and not paid_meanwhile:
            attempt = Payment.objects.filter(order=order, provider=Payment.Provider.CARD).count() + 1
            cents = to_cents(amount)
            intent = gateway.intent_create(
                amount_cents=cents,
                metadata={"order": order.pk, "order_reference": order.reference,
                          "registrations": ",".join(map(str, ids)), "gift_cents": to_cents(gift)},
                idempotency_key=_idempotency_key(order, attempt, ids, cents),
            )
            payment = Payment.objects.create(order=order, provider=Payment.Provider.CARD, amount=amount,
                                             gift_amount=gift, reference=intent.id)
            payment.registrations.add(*due)  # a new payment: nothing to compare with (set() would read first)
            payment.intent_status = intent.status
            log.info("payment %s started for order %s: %s registrations", payment.pk, order.pk, len(ids))
            result = (payment, intent.client_secret)
    if paid_meanwhile:
        outcomes = [payment_confirm(payment_intent_id=ref, now=now).outcome for ref in paid_meanwhile]
        if Outcome.PROCESSING in outcomes:
            raise PaymentProcessing()
        raise AlreadyPaid()
    if result is None:
        raise NothingToPay()
    return result


def payment_confirm(*, payment_intent_id: str, now: dt.datetime | None = None) -> ConfirmResult:
    """Record what Stripe says about a PaymentIntent. Idempotent; safe to call any number of times,
    concurrently, from the browser's return and from the webhook.

    Re-reads the intent from Stripe (never the caller's data), then, under a lock on the payment
    row: already succeeded → returns at once, changing nothing. Succeeded on Stripe (and the
    amount matches) → the payment succeeds and its registrations are confirmed
    (``registrations_confirm_paid``, which queues the confirmation e-mail); a registration whose
    hold ran out while its course filled is *lost*: a refund row ``lost:<payment id>:<registration id>`` is
    written in the same transaction, the Stripe refund is made after commit (the dedupe key is
    the idempotency key, and an existing Stripe refund with that key is adopted), and the buyer is
    told (``seat_lost_refunded``). A registration confirmed meanwhile by another payment gets
    this payment's share back (``duplicate:…``). Declined, failed authentication or canceled →
    the payment fails and the holds stay; needs authentication → the payment stays pending.

    Locks: the payment row, then (through ``registrations_confirm_paid``) the course rows and the
    registrations. Raises ``core.locking.Busy`` on a lock timeout, ``GatewayUnavailable`` when
    Stripe cannot be read, ``PaymentNotFound`` for an intent that is not ours.
    """
    now = now or timezone.now()
    intent = gateway.intent_retrieve(payment_intent_id)
    with locked_atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",)).select_related("order")
            .filter(provider=Payment.Provider.CARD, reference=payment_intent_id).first()
        )
        if payment is None:
            raise PaymentNotFound()
        if payment.status == P.SUCCEEDED:
            return ConfirmResult(payment=payment, outcome=Outcome.ALREADY)
        if intent.status == "succeeded":
            return _succeed(payment, intent, now=now)
        return _not_succeeded(payment, intent)


def _succeed(payment: Payment, intent, *, now: dt.datetime) -> ConfirmResult:
    if intent.amount != to_cents(payment.amount) or intent.currency != gateway.CURRENCY:
        log.error("payment %s: Stripe amount %s %s does not match ours", payment.pk, intent.amount, intent.currency)
        raise AmountMismatch()
    payment.status = P.SUCCEEDED
    payment.succeeded_at = now
    payment.failure_message = ""
    payment.save(update_fields=["status", "succeeded_at", "failure_message", "updated_at"])
    ids = sorted(payment.registrations.values_list("pk", flat=True))
    # A seat whose Pass the Buck award already went back to the fund (its hold ran out before this
    # payment landed) is not confirmed half paid: registrations_confirm_paid reports it lost (under
    # its lock), and this payment's share is refunded below.
    confirmed, lost = registrations_confirm_paid(registration_ids=ids, now=now, reason="paid by card")
    if payment.gift_amount > 0:
        if Payment.objects.filter(order_id=payment.order_id, status=P.SUCCEEDED, gift_amount__gt=0).exclude(
            pk=payment.pk
        ).exists():
            # Paid twice (two tabs, two cards): the gift was given with the first payment already.
            refund = refund_create_once(payment=payment, registration=None, amount=payment.gift_amount,
                                        key=f"duplicate-gift:{payment.pk}",
                                        reason="Paid twice: the second gift to Pass the Buck was refunded automatically.")
            if refund:
                transaction.on_commit(partial(refund_issue, refund_id=refund.pk), robust=True)
        else:
            gift_record(payment=payment, now=now)
    handled = {r.pk for r in confirmed} | {r.pk for r in lost}
    # Every seat confirmed now (the usual case): nothing to refund, no shares to work out.
    others = [] if handled >= set(ids) else list(
        payment.registrations.exclude(pk__in=handled).filter(status=S.CONFIRMED))
    shares = selectors.payment_shares(payment) if lost or others else {}
    refunds = []
    for registration in lost:
        refund = refund_create_once(
            payment=payment, registration=registration, amount=shares.get(registration.pk, ZERO),
            key=f"lost:{payment.pk}:{registration.pk}",
            reason="Paid after the hold ran out, and the class had filled: refunded automatically.",
        )
        if refund:
            refunds.append(refund)
    if lost:
        notices.queue_seat_lost(payment, lost, {r.pk: shares.get(r.pk, ZERO) for r in lost})
    for registration in others:
        # Already confirmed: paid twice (two tabs, two cards)? Give this payment's share back.
        share = shares.get(registration.pk, ZERO)
        if selectors.registration_paid(registration, exclude_payment_id=payment.pk) >= registration.price:
            refund = refund_create_once(
                payment=payment, registration=registration, amount=share, key=f"duplicate:{payment.pk}:{registration.pk}",
                reason="Paid twice for the same seat: the second payment was refunded automatically.",
            )
            if refund:
                refunds.append(refund)
    for refund in refunds:
        transaction.on_commit(partial(refund_issue, refund_id=refund.pk), robust=True)
    log.info("payment %s succeeded: %s confirmed, %s lost", payment.pk, len(confirmed), len(lost))
    return ConfirmResult(payment=payment, outcome=Outcome.SUCCEEDED, confirmed=confirmed, lost=lost)


def _not_succeeded(payment: Payment, intent) -> ConfirmResult:
    outcome, text, code = intent_outcome(intent)
    status = intent.status
    if outcome == Outcome.NOT_PAID:
        return ConfirmResult(payment=payment, outcome=Outcome.NOT_PAID)
    fields = []
    if text and payment.failure_message != text[:300]:
        payment.failure_message = text[:300]
        fields.append("failure_message")
    if outcome in (Outcome.DECLINED, Outcome.AUTHENTICATION_FAILED, Outcome.CANCELED) and payment.status != P.FAILED:
        payment.status = P.FAILED  # the next try gets a fresh PaymentIntent; the holds stay
        fields.append("status")
    if fields:
        payment.save(update_fields=[*fields, "updated_at"])
        log.info("payment %s: %s (%s)", payment.pk, outcome.value, code or status)
    return ConfirmResult(payment=payment, outcome=outcome, message=text)


def payment_confirm_local(*, order: Order, payment_intent_id: str, payment_method: str):
    """localstripe only: confirm the order's pending PaymentIntent with the card its fake Stripe.js
    tokenized (what real Stripe.js does itself). Returns the intent as it stands afterwards; the
    browser then finishes 3-D Secure if needed and goes to the return page, which records the
    result through ``payment_confirm``. No lock: it changes nothing of ours."""
    exists = Payment.objects.filter(order=order, provider=Payment.Provider.CARD, status=P.PENDING,
                                    reference=payment_intent_id).exists()
    if not exists:
        raise PaymentNotFound()
    return gateway.intent_confirm_local(payment_intent_id, payment_method=payment_method)
