"""Reads of finance: what an order owes now, and what each registration was paid and refunded.

A payment may cover several registrations; its money is attributed to them by their prices
(exactly the price each when the payment is their sum, which is every online payment).

A transfer moves the money with the seat: ``finance.services.staff.transfer_settle`` adds the new
registration to the old one's payments, and the old one's share then belongs to the new one
(``payment_shares``); refunds made for the old one count against the new one too
(``registration_refunded``).
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from core.money import ZERO, round_cents
from enrollment.models import Order, Registration

from .models import Payment, Refund
from .refund_words import RefundNote, RefundPart, note_of_refunds

S = Registration.Status


def registrations_payable(order: Order, *, now: dt.datetime) -> list[Registration]:
    """The order's registrations that can be paid for right now: held or offered, unexpired, not free."""
    return list(
        order.registrations.filter(status__in=[S.HELD, S.OFFERED], expires_at__gt=now, price__gt=0)
        .select_related("course", "course__semester").order_by("pk")
    )


def registration_due(registration: Registration) -> Decimal:
    """What is left to pay for a registration: its price less its succeeded payments (a Pass the
    Buck scholarship pays half)."""
    return max(registration.price - registration_paid(registration), ZERO)


def registrations_due(registrations) -> dict[int, Decimal]:
    """``registration_due`` of each registration, by id, with one query for the payments of all
    of them (none paid yet, the usual case: nothing more)."""
    ids = {r.pk for r in registrations}
    paid: dict[int, Decimal] = dict.fromkeys(ids, ZERO)
    if ids:
        payments = (Payment.objects.filter(registrations__in=ids, status=Payment.Status.SUCCEEDED).distinct()
                    .prefetch_related("registrations").order_by("created_at", "pk"))
        for payment in payments:
            for pk, share in payment_shares(payment).items():
                if pk in paid:
                    paid[pk] += share
    return {r.pk: max(r.price - paid[r.pk], ZERO) for r in registrations}


def order_gift_due(order: Order) -> Decimal:
    """The gift to Pass the Buck the buyer added at checkout, while it is not yet paid (it is paid
    once, with the first card payment that succeeds)."""
    if order.gift_amount <= 0:
        return ZERO
    paid = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED, gift_amount__gt=0).exists()
    return ZERO if paid else order.gift_amount


def order_registrations(order: Order) -> list[Registration]:
    """Every registration of an order, with its course, for the order summary."""
    return list(order.registrations.select_related("course", "course__semester", "course__venue").order_by("pk"))


def payment_shares(payment: Payment) -> dict[int, Decimal]:
    """How much of ``payment`` belongs to each of its registrations (by price; cents add up).

    The split is over the registrations the payment was made for; a registration transferred to
    another one that this payment also covers hands its share on (to the end of the chain), and
    keeps nothing."""
    registrations = sorted(payment.registrations.all(), key=lambda r: r.pk)
    if not registrations:
        return {}
    ids = {r.pk for r in registrations}
    successor = {r.transferred_from_id: r.pk for r in registrations if r.transferred_from_id in ids}
    if payment.provider == Payment.Provider.SCHOLARSHIP:  # one seat: the fund's half of it, where the seat is now
        holder = registrations[0].pk
        while holder in successor:
            holder = successor[holder]
        return {r.pk: payment.amount if r.pk == holder else ZERO for r in registrations}
    # A seat with a scholarship was paid for (by card, cash or check) at its price less the award.
    awarded = dict(
        Payment.objects.filter(provider=Payment.Provider.SCHOLARSHIP, status=Payment.Status.SUCCEEDED,
                               registrations__in=ids).values_list("registrations", "amount")
    )
    paid_for = [r for r in registrations if r.transferred_from_id not in ids]
    weight = {r.pk: max(r.price - awarded.get(r.pk, ZERO), ZERO) for r in paid_for}
    total_price = sum(weight.values(), ZERO)
    shares: dict[int, Decimal] = {r.pk: ZERO for r in registrations}
    left = payment.amount - payment.gift_amount  # a gift to Pass the Buck belongs to no seat
    for i, registration in enumerate(paid_for):
        if i == len(paid_for) - 1:
            share = left
        elif total_price > 0:
            share = round_cents((payment.amount - payment.gift_amount) * weight[registration.pk] / total_price)
        else:
            share = round_cents((payment.amount - payment.gift_amount) / len(paid_for))
        share = min(share, left)
        holder = registration.pk
        while holder in successor:
            holder = successor[holder]
        shares[holder] += share
        left -= share
    return shares


def registration_payments(registration: Registration, *, exclude_payment_id: int | None = None
                          ) -> list[tuple[Payment, Decimal]]:
    """The succeeded payments for a registration with the share of each that is its own;
    card payments first (a refund goes back the way the money came), then oldest first."""
    payments = (
        Payment.objects.filter(registrations=registration, status=Payment.Status.SUCCEEDED)
        .prefetch_related("registrations").order_by("created_at", "pk")
    )
    rows = [(p, payment_shares(p).get(registration.pk, ZERO)) for p in payments if p.pk != exclude_payment_id]
    return sorted(rows, key=lambda row: row[0].provider != Payment.Provider.CARD)


def registration_paid(registration: Registration, *, exclude_payment_id: int | None = None) -> Decimal:
    return sum((share for _, share in registration_payments(registration, exclude_payment_id=exclude_payment_id)),
               ZERO)


def registration_lineage(registration: Registration) -> list[int]:
    """The registration's id and those of the registrations it was transferred from, newest first."""
    ids = [registration.pk]
    previous = registration.transferred_from_id
    while previous is not None and previous not in ids:
        ids.append(previous)
        previous = Registration.objects.filter(pk=previous).values_list("transferred_from_id", flat=True).first()
    return ids


def registration_refunded(registration: Registration, *, payment_id: int | None = None, cause: str = "",
                          patron_only: bool = False) -> Decimal:
    """Refunds made or owed for a registration (to issue, done, or failed and left to staff),
    including those made before it was transferred (its money came with it); only those of one
    payment, or of one cause (the dedupe key's prefix, e.g. ``"cancel"``); ``patron_only``: not
    the scholarship awards returned to the fund."""
    qs = Refund.objects.filter(registration_id__in=registration_lineage(registration))
    if payment_id is not None:
        qs = qs.filter(payment_id=payment_id)
    if cause:
        qs = qs.filter(dedupe_key__startswith=f"{cause}:")
    if patron_only:  # leave out the Pass the Buck awards given back to the fund
        qs = qs.exclude(payment__provider=Payment.Provider.SCHOLARSHIP)
    return qs.aggregate(total=Sum("amount"))["total"] or ZERO


def refunds_to_retry(*, max_attempts: int, created_before: dt.datetime) -> list[int]:
    """Card refunds whose Stripe call has not gone through yet (oldest first)."""
    return list(
        Refund.objects.filter(status=Refund.Status.PENDING, payment__provider=Payment.Provider.CARD,
                              attempts__lt=max_attempts, created_at__lte=created_before)
        .order_by("created_at", "pk").values_list("pk", flat=True)
    )


def registrations_to_settle(*, cancelled_since: dt.datetime) -> list[int]:
    """Paid registrations cancelled lately that have no cancellation refund yet (the sweep settles
    each; most owe nothing — cancelled after the cutoff — and settling them changes nothing)."""
    return list(
        Registration.objects.filter(status=S.CANCELLED, confirmed_at__isnull=False, cancelled_at__gte=cancelled_since,
                                    payments__status=Payment.Status.SUCCEEDED)
        .exclude(refunds__dedupe_key__startswith="cancel:")
        .order_by("pk").values_list("pk", flat=True).distinct()
    )


def refund_allocation(registration: Registration, owed: Decimal) -> list[tuple[Payment, Decimal]]:
    """Which payments a refund of ``owed`` for ``registration`` comes from, and how much of each:
    card payments first, each up to its share not yet refunded; never the Pass the Buck
    scholarship (its half goes back to the fund, not to the patron). ``refunds_settle`` makes
    these refunds; the cancel page describes them before they exist."""
    rows: list[tuple[Payment, Decimal]] = []
    for payment, share in registration_payments(registration):
        if owed <= 0:
            break
        if payment.provider == Payment.Provider.SCHOLARSHIP:
            continue
        amount = min(owed, share - registration_refunded(registration, payment_id=payment.pk))
        if amount > 0:
            rows.append((payment, amount))
            owed -= amount
    return rows


def refund_plan(registration: Registration, *, due: Decimal):
    """How a refund of what policy owes (``due``, the patron's own share) would come back if the
    registration were cancelled now: a ``finance.refund_words.RefundNote``, before any refund
    exists (the self-service cancel page)."""
    owed = min(due, registration_paid(registration) - registration_refunded(registration))
    return RefundNote(parts=tuple(RefundPart(provider=p.provider, amount=a)
                                  for p, a in refund_allocation(registration, owed)))


def registration_refund_note(registration: Registration, *, cause: str = ""):
    """The patron's refunds of a registration (to issue or done; of one ``cause``, the dedupe
    key's prefix, when given) as a ``finance.refund_words.RefundNote``."""
    qs = (Refund.objects.filter(registration=registration)
          .exclude(status=Refund.Status.FAILED).select_related("payment").order_by("pk"))
    if cause:
        qs = qs.filter(dedupe_key__startswith=f"{cause}:")
    return note_of_refunds(qs)


# --- the transfer page's figures (``enrollment.staff.transfer``) ------------------------------------

def transfer_difference(course, *, paid: Decimal) -> Decimal:
    """What moving a registration that has ``paid`` (net of refunds) into ``course`` changes: more
    than zero is due from the patron, less than zero is refunded to them (``transfer_settle``)."""
    return course.fee - paid
