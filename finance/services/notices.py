"""The messages finance sends, queued through the outbox in the caller's transaction.

Templates: ``templates/emails/<name>.{subject.txt,txt,html}``. Dedupe keys make each message at
most once per cause.
"""

from decimal import Decimal

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from core.models import SiteOptions
from core.outbox import outbox_enqueue
from enrollment.messages import queue_cancelled
from enrollment.models import Order, Registration
from enrollment.services.weekout import cancellation_tell

from ..models import Payment, Refund
from ..refund_words import CARD, TIMING, RefundNote, RefundPart, part_of_refund


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _manage_url(order: Order) -> str:
    if not order.email:
        return ""
    try:
        from enrollment.links import manage_url

        return manage_url(order.email)
    except NoReverseMatch:  # the "My registrations" page is not wired in this deployment
        return ""


def _base(order: Order) -> dict:
    return {
        "site": SiteOptions.current(),
        "order": order,
        "buyer_first_name": order.first_name,
        "manage_url": _manage_url(order),
        "catalog_url": _absolute(reverse("classes:home")),
        "site_url": settings.SITE_URL,
    }


def queue_seat_lost(payment: Payment, lost: list[Registration], amounts: dict[int, Decimal]) -> None:
    """A payment arrived after the hold ran out and the class had filled: the money is on its way back."""
    order = payment.order
    items = [{"registration": r, "course": r.course, "amount": amounts.get(r.pk, Decimal("0.00"))} for r in lost]
    total = sum((i["amount"] for i in items), Decimal("0.00"))
    context = _base(order) | {"items": items, "total": total,
                              "refund": RefundPart(provider=payment.provider, amount=total, done=True)}
    outbox_enqueue(to=order.email, template="seat_lost_refunded", context=context,
                   dedupe_key=f"seat-lost:{payment.pk}")


def queue_refund_issued(refund: Refund) -> None:
    """A refund has been made: to the card (Stripe), or as a refund check / cash at the desk."""
    payment = refund.payment
    registration = refund.registration
    order = payment.order
    context = _base(order) | {
        "refund": refund,
        "amount": refund.amount,
        "provider": payment.provider,
        "by_card": payment.provider == Payment.Provider.CARD,
        "part": part_of_refund(refund),
        "timing": TIMING[CARD] if payment.provider == Payment.Provider.CARD else "",
        "registration": registration,
        "course": registration.course if registration else None,
    }
    outbox_enqueue(to=order.email, template="refund_issued", context=context,
                   dedupe_key=f"refund-issued:{refund.pk}")


def queue_cancellation(registration: Registration, refunds: RefundNote) -> None:
    """Tell the patron their registration is cancelled and how each refund comes back
    (``refunds``: what ``refunds_settle`` made for the cancellation, their own share only): the
    class-cancelled message (or the call list) when the program cancelled the class, else the
    registration-cancelled one. Enrollment leaves these to finance whenever a refund is due."""
    if registration.course.status == registration.course.Status.CANCELLED:
        cancellation_tell(registration, refunds=refunds)
    else:
        queue_cancelled(registration, was=Registration.Status.CONFIRMED, refunds=refunds)
