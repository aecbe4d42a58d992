"""Gifts to Pass the Buck added at checkout ("Add a gift to Pass the Buck").

The buyer's gift (``Order.gift_amount``) is charged with the seats in the same card payment
(``Payment.gift_amount`` is its part; ``finance.selectors.payment_shares`` leaves it out of the
seats' shares, so refunds of a seat never touch it). When that payment succeeds,
``gift_record`` turns the gift into a ``Donation`` (method card, linked to the payment) and
``donation_succeed`` books the fund entry and queues the acknowledgement with the receipt PDF —
in the payment's transaction, once (the payment row is locked and succeeds once; the donation is
one-to-one with the payment).
"""

import datetime as dt
import logging

from django.utils import timezone

from ..models import Donation, Payment
from .donations import donation_succeed

log = logging.getLogger(__name__)


def gift_record(*, payment: Payment, now: dt.datetime | None = None) -> Donation | None:
    """Book the gift part of a succeeded card payment as a donation (once). None without a gift.
    Call inside ``payment_confirm``'s transaction, which holds the payment row's lock."""
    if payment.gift_amount <= 0 or payment.status != Payment.Status.SUCCEEDED:
        return None
    now = now or timezone.now()
    donation = Donation.objects.filter(payment=payment).first()
    if donation is None:
        order = payment.order
        address = "\n".join(line for line in (order.street_address, order.city_state_zip) if line)
        donation = Donation.objects.create(
            first_name=order.first_name, last_name=order.last_name, email=order.email, address=address,
            amount=payment.gift_amount, method=Donation.Method.CARD, reference=payment.reference,
            anonymous=order.gift_anonymous, payment=payment, created_at=now,
        )
    donation_succeed(donation=donation, now=now)
    log.info("gift with payment %s booked as donation %s", payment.pk, donation.pk)
    return donation
