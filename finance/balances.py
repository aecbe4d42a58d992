"""What an order owes, from facts alone (nothing stored): the charges of its registrations
against the money that came in and went back.

A registration's charge: confirmed → its price; transferred → nothing (the charge moved with it
to the new registration); cancelled → what the refund policy keeps (its price minus
``enrollment.selectors.refund_due``; a class the program cancelled keeps nothing); held,
offered, waitlisted or expired → nothing yet.

balance due = charges − (succeeded payments − refunds done or to issue). Negative: a credit the
library owes the patron.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from classes.models import Course
from core.money import ZERO, round_cents
from enrollment.models import Order, Registration
from enrollment.selectors import refund_due

from .models import Payment, Refund

S = Registration.Status


def registration_charge(registration: Registration) -> Decimal:
    if registration.status == S.CONFIRMED:
        return registration.price
    if registration.status == S.CANCELLED and registration.confirmed_at is not None:
        if registration.course.status == Course.Status.CANCELLED:
            return ZERO
        # What stays paid: the price, less the Pass the Buck award given back to the fund, less
        # what policy refunds the patron.
        return registration.price - registration.fund_returned - refund_due(registration)
    return ZERO


@dataclass(frozen=True)
class OrderBalance:
    charges: Decimal
    paid: Decimal
    refunded: Decimal

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.refunded

    @property
    def due(self) -> Decimal:
        """Still to collect (positive) or owed back to the patron (negative)."""
        return round_cents(self.charges - self.net_paid)


def order_balance(order: Order) -> OrderBalance:
    registrations = order.registrations.select_related("course", "course__semester").prefetch_related(
        "course__meetings"
    )
    charges = sum((registration_charge(r) for r in registrations), ZERO)
    # A gift to Pass the Buck paid with the seats is the fund's money, not the order's.
    paid = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).aggregate(
        s=Sum(F("amount") - F("gift_amount")))["s"]
    refunded = (
        Refund.objects.filter(payment__order=order)
        .exclude(status=Refund.Status.FAILED)
        .aggregate(s=Sum("amount"))["s"]
    )
    return OrderBalance(charges=round_cents(charges), paid=round_cents(paid or ZERO), refunded=round_cents(refunded or ZERO))


# --- the patron's side: what the patron owes and paid, without the Pass the Buck award ---------------

def registration_patron_charge(registration: Registration) -> Decimal:
    """The patron's own part of a registration's charge: the charge less what the fund paid and
    kept in it (its award, less any award given back). A seat without a charge has none."""
    charge = registration_charge(registration)
    if charge <= 0:
        return charge
    fund_kept = registration.fund_paid - registration.fund_returned
    return max(round_cents(charge - fund_kept), ZERO)


def order_patron_balance(order: Order) -> OrderBalance:
    """The order's balance as the patron sees it (and the front desk, who may not see awards):
    the patron's own charges against their own payments and refunds. The scholarship payments and
    their refunds are the fund's money on both sides, so ``due`` is the order's due."""
    registrations = order.registrations.select_related("course", "course__semester").prefetch_related(
        "course__meetings"
    )
    charges = sum((registration_patron_charge(r) for r in registrations), ZERO)
    paid = (Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED)
            .exclude(provider=Payment.Provider.SCHOLARSHIP).aggregate(s=Sum(F("amount") - F("gift_amount")))["s"])
    refunded = (
        Refund.objects.filter(payment__order=order).exclude(status=Refund.Status.FAILED)
        .exclude(payment__provider=Payment.Provider.SCHOLARSHIP).aggregate(s=Sum("amount"))["s"]
    )
    return OrderBalance(charges=round_cents(charges), paid=round_cents(paid or ZERO), refunded=round_cents(refunded or ZERO))
