"""Refunds: owed money goes back exactly once.

A refund is a row with a unique ``dedupe_key`` naming its cause (``cancel:<registration id>``,
``lost:<payment id>:<registration id>``, ``duplicate:<payment id>:<registration id>``), written in the
transaction that decides it. Card refunds are then made on Stripe by ``refund_issue`` under a
lock on that row, with the dedupe key as Stripe's idempotency key and in the refund's metadata
(an earlier Stripe refund with that key is adopted, never repeated). Cash and check refunds wait
as "to issue" for staff, who record the refund check number (``refund_mark_issued``).
"""

import datetime as dt
import logging
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.locking import Busy, locked_atomic
from core.money import to_cents
from enrollment.models import Registration
from enrollment.selectors import refund_due

from .. import gateway, selectors
from ..errors import CardDeclined, GatewayUnavailable, PaymentError
from ..models import Payment, Refund
from . import notices

log = logging.getLogger(__name__)

R = Refund.Status
#: Stripe calls for one card refund before it is left to staff as failed. With the backoff below
#: (5 min, 10 min, … capped at 6 h between tries) that is about three days of a Stripe outage.
MAX_ATTEMPTS = 16
BACKOFF_FIRST = dt.timedelta(minutes=5)
BACKOFF_MAX = dt.timedelta(hours=6)


def _retry_due(refund: Refund, now: dt.datetime) -> bool:
    """A refund whose last Stripe call failed is retried after a growing pause."""
    if refund.attempts == 0:
        return True
    pause = min(BACKOFF_FIRST * 2 ** (refund.attempts - 1), BACKOFF_MAX)
    return refund.updated_at + pause <= now
#: The sweep leaves a new card refund to the call right after its commit this long.
SWEEP_GRACE = dt.timedelta(minutes=2)
#: The sweep looks for unsettled cancellations this far back.
SETTLE_LOOKBACK = dt.timedelta(days=120)


def refund_create_once(*, payment: Payment, registration: Registration | None, amount: Decimal, key: str,
                       reason: str, actor=None) -> Refund | None:
    """Write a pending refund for ``key`` unless one exists (then None). Call inside the
    transaction that decides it; nothing is paid out here."""
    if amount <= 0 or Refund.objects.filter(dedupe_key=key).exists():
        return None
    try:
        with transaction.atomic():
            return Refund.objects.create(
                payment=payment, registration=registration, amount=amount, reason=reason[:300], dedupe_key=key,
                issued_by=actor if payment.provider != Payment.Provider.CARD else None,
            )
    except IntegrityError:  # a concurrent transaction wrote the same key first
        return None


def refund_issue(*, refund_id: int, now: dt.datetime | None = None) -> Refund:
    """Make one pending card refund on Stripe, at most once, and queue ``refund_issued`` (not for a
    lost seat: ``seat_lost_refunded`` has told the buyer).

    Locks: the refund row, across the Stripe calls (two callers never both call Stripe for it).
    Before creating, a Stripe refund already carrying this dedupe key is looked up and adopted;
    the create uses the dedupe key as idempotency key. A Stripe failure is recorded
    (``attempts``, ``last_error``) and left to ``refunds_sweep``; after ``MAX_ATTEMPTS`` the
    refund is marked failed for staff. Cash, check and done refunds are returned unchanged.
    """
    now = now or timezone.now()
    with locked_atomic():
        refund = Refund.objects.select_for_update(of=("self",)).select_related("payment", "payment__order").get(
            pk=refund_id
        )
        if refund.status != R.PENDING or refund.payment.provider != Payment.Provider.CARD:
            return refund
        refund.attempts += 1
        try:
            made = gateway.refund_find(payment_intent=refund.payment.reference, dedupe_key=refund.dedupe_key)
            if made is None:
                made = gateway.refund_create(
                    payment_intent=refund.payment.reference, amount_cents=to_cents(refund.amount),
                    idempotency_key=refund.dedupe_key,
                    metadata={"dedupe_key": refund.dedupe_key, "refund": refund.pk, "payment": refund.payment_id,
                              "registration": refund.registration_id or ""},
                )
        except (GatewayUnavailable, CardDeclined) as exc:
            # For staff: what Stripe really said (never the patron's "you have not been charged").
            refund.last_error = (exc.detail or type(exc.__cause__ or exc).__name__)[:300]
            if refund.attempts >= MAX_ATTEMPTS:
                refund.status = R.FAILED
            refund.save(update_fields=["attempts", "last_error", "status", "updated_at"])
            log.warning("refund %s: Stripe call %s failed", refund.pk, refund.attempts)
            return refund
        if made.status in ("succeeded", "pending", "requires_action"):
            refund.status = R.DONE
            refund.reference = made.id
            refund.done_at = now
            refund.last_error = ""
            refund.save(update_fields=["attempts", "status", "reference", "done_at", "last_error", "updated_at"])
            if not refund.dedupe_key.startswith("lost:"):  # a lost seat's e-mail already says it is refunded
                notices.queue_refund_issued(refund)
            log.info("refund %s done on Stripe (%s)", refund.pk, made.id)
        else:
            refund.status = R.FAILED
            refund.reference = made.id
            refund.last_error = f"Stripe refund {made.status}"
            refund.save(update_fields=["attempts", "status", "reference", "last_error", "updated_at"])
            log.warning("refund %s: Stripe says %s", refund.pk, made.status)
        return refund


def refunds_settle(*, registration_id: int, reason: str = "", actor=None, now: dt.datetime | None = None
                   ) -> list[Refund]:
    """Give back what policy owes for a registration and has not been given back yet; returns the
    refunds made now (none when nothing more is owed).

    Owed = the smaller of what policy owes (``enrollment.selectors.refund_due``) less the
    cancellation refunds already made, and what its succeeded payments paid for it less every
    refund already made for it (a lost seat, a duplicate payment). Taken from card payments first, each up to its share; the refund's key is
    ``cancel:<registration id>`` (``cancel:<registration id>:<payment id>`` for a second payment).
    Card refunds are made on Stripe after commit (``refund_issue``) and the patron is e-mailed;
    cash and check refunds wait for staff as "to issue". Calling it twice, or concurrently,
    refunds once. A Pass the Buck award goes back to the fund first (``fund_award_return``),
    whatever the policy owes the patron; the scholarship payment is never refunded to the patron.

    The patron is told here, when policy owes a refund (enrollment leaves that message to us):
    ``notices.queue_cancellation`` with the note of how each refund comes back
    (``finance.refund_words``) — the class-cancelled e-mail or call-list entry, or the
    registration-cancelled e-mail; once (their dedupe keys).

    Locks: the registration row (so concurrent settlements of it queue and re-read).
    """
    now = now or timezone.now()
    created: list[Refund] = []
    with locked_atomic():
        registration = (
            Registration.objects.select_for_update(of=("self",)).select_related("course", "order")
            .get(pk=registration_id)
        )
        # A scholarship's half goes back to the fund (whatever the refund policy owes the patron).
        from .fund import FundNotReturnable, fund_award_return

        try:
            fund_award_return(registration=registration, by=actor, now=now)
        except FundNotReturnable:
            pass
        due = refund_due(registration)
        owed = min(
            due - selectors.registration_refunded(registration, cause="cancel"),
            selectors.registration_paid(registration) - selectors.registration_refunded(registration),
        )
        text = reason or "Cancelled before the week-out cutoff: full refund."
        for payment, amount in selectors.refund_allocation(registration, owed) if owed > 0 else []:
            key = f"cancel:{registration.pk}" if not created else f"cancel:{registration.pk}:{payment.pk}"
            refund = refund_create_once(payment=payment, registration=registration, amount=amount, key=key,
                                        reason=text, actor=actor)
            if refund is None:
                continue
            created.append(refund)
            if payment.provider == Payment.Provider.CARD:
                transaction.on_commit(partial(refund_issue, refund_id=refund.pk), robust=True)
        if due > 0:
            # Enrollment left the patron's message to us: we know how the money comes back.
            notices.queue_cancellation(registration, selectors.registration_refund_note(registration, cause="cancel"))
        log.info("registration %s settled: %s refunds", registration.pk, len(created))
    return list(Refund.objects.filter(pk__in=[r.pk for r in created]).select_related("payment").order_by("pk"))


def refund_mark_issued(*, refund_id: int, reference: str, actor=None, now: dt.datetime | None = None) -> Refund:
    """Staff: a cash/check (or scholarship) refund has been handed out; record the refund check
    number (or a note) and tell the patron. Card refunds are made by Stripe, not here.
    Locks: the refund row."""
    now = now or timezone.now()
    with locked_atomic():
        refund = Refund.objects.select_for_update(of=("self",)).select_related("payment").get(pk=refund_id)
        if refund.payment.provider == Payment.Provider.CARD:
            raise PaymentError("Card refunds are made through Stripe.")
        if refund.status != R.PENDING:
            return refund
        refund.status = R.DONE
        refund.reference = reference.strip()[:120]
        refund.issued_by = actor
        refund.done_at = now
        refund.save(update_fields=["status", "reference", "issued_by", "done_at", "updated_at"])
        notices.queue_refund_issued(refund)
    return refund


def refunds_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic safety net: retry card refunds whose Stripe call failed (or never ran), and
    settle cancelled, paid registrations that were never settled. Safe to run twice at once:
    each step takes its row's lock and re-reads it."""
    now = now or timezone.now()
    counts = {"retried": 0, "issued": 0, "settled": 0}
    candidates = selectors.refunds_to_retry(max_attempts=MAX_ATTEMPTS, created_before=now - SWEEP_GRACE)
    due = {r.pk for r in Refund.objects.filter(pk__in=candidates) if _retry_due(r, now)}
    for refund_id in (pk for pk in candidates if pk in due):
        try:
            refund = refund_issue(refund_id=refund_id, now=now)
        except Busy:
            continue  # someone else is issuing it
        counts["retried"] += 1
        counts["issued"] += refund.status == R.DONE
    for registration_id in selectors.registrations_to_settle(cancelled_since=now - SETTLE_LOOKBACK):
        try:
            made = refunds_settle(registration_id=registration_id, now=now)
        except Busy:
            continue
        counts["settled"] += bool(made)
    if any(counts.values()):
        log.info("refunds sweep: %s", counts)
    return counts

