"""The demo's registrants, their orders and how each paid (card online, cash or check at the desk),
and the gifts that give Pass the Buck a balance. Used by ``manage.py seed_demo`` (``courses``, ``seed``).
"""

import datetime as dt
from decimal import Decimal

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.text import slugify

from classes.models import Course
from enrollment.models import Order, ReferralSource, Registration
from enrollment.services.seats import attendee_key
from finance.models import Donation, Payment, Refund
from finance.services.fund import fund_donation_record

from . import data as demo_data


def _attendees(index: int, count: int) -> list[tuple[str, str]]:
    """``count`` distinct fictional names for the course at ``index`` (first names never repeat
    within a course, so the pairs are unique)."""
    firsts, lasts = demo_data.ATTENDEE_FIRST_NAMES, demo_data.ATTENDEE_LAST_NAMES
    if count > len(firsts):
        raise CommandError(f"Add attendee first names: a demo course wants {count}, there are {len(firsts)}.")
    return [(firsts[(index * 7 + i) % len(firsts)], lasts[(index * 11 + i * 3) % len(lasts)]) for i in range(count)]


def seed_registrations(course: Course, index: int, count: int, status: str) -> None:
    """Bring the course's demo registrations (the ``count`` names of :func:`_attendees`) to
    ``status``: missing ones are added, ones with another status are set to it. Confirmed seats
    never go past the capacity, counting registrations made while trying the demo."""
    names = _attendees(index, count)
    wanted_names = set(names)
    mine = {
        (reg.attendee_first_name, reg.attendee_last_name): reg
        for reg in course.registrations.filter(
            attendee_first_name__in={first for first, _ in names}, attendee_last_name__in={last for _, last in names}
        )
    }
    mine = {name: reg for name, reg in mine.items() if name in wanted_names}
    seats = (
        course.capacity
        - course.registrations.filter(status=Registration.Status.CONFIRMED)
        .exclude(pk__in=[reg.pk for reg in mine.values()])
        .count()
    )
    new, changed = [], []
    for first, last in names:
        wanted = status
        if wanted == Registration.Status.CONFIRMED:
            if seats <= 0:
                wanted = Registration.Status.CANCELLED
            seats -= 1
        reg = mine.get((first, last))
        if reg is None:
            if wanted == status:
                new.append(
                    Registration(course=course, attendee_first_name=first, attendee_last_name=last, status=status)
                )
        elif reg.status != wanted:
            reg.status = wanted
            changed.append(reg)
    if new:
        _create_paid_orders(course, new, now=timezone.now())
    for reg in changed:  # only after the demo was moved to another day, or tried out
        reg.save(update_fields=["status", "updated_at"])


def _create_paid_orders(course: Course, registrations: list[Registration], *, now) -> None:
    """Each demo attendee registered themself in their own order: online with an e-mail address,
    paid by card; or at the desk (every fifth, without an e-mail address: those patrons go on the
    staff call list), paid in cash or by check. A seat of a class cancelled before the demo began
    was refunded then, the way it was paid."""
    sources = list(ReferralSource.objects.filter(active=True))
    for n, reg in enumerate(registrations):
        first, last = reg.attendee_first_name, reg.attendee_last_name
        email = "" if n % 5 == 4 else f"{slugify(first)}.{slugify(last)}@example.org"
        order = Order.objects.create(
            first_name=first, last_name=last, email=email, phone=f"785-555-{(course.pk * 53 + n * 37) % 9000 + 1000:04d}",
            referral=sources[n % len(sources)] if sources else None,
            channel=Order.Channel.ONLINE if email else Order.Channel.DESK,
        )
        reg.order = order
        reg.attendee_key = attendee_key(first_name=first, last_name=last, email=email, phone=order.phone)
        reg.price = course.fee
        reg.confirmed_at = now
        if reg.status == Registration.Status.CANCELLED:
            reg.cancelled_at = min(course.registration_closes_at or now, now)
    Registration.objects.bulk_create(registrations)
    for n, reg in enumerate(registrations):
        if reg.price > 0:
            if reg.order.channel == Order.Channel.ONLINE:
                # Paid online by card. Its PaymentIntent id is the demo's own: localstripe (which
                # starts afresh with `make run`) does not know it, so a card refund of a seeded
                # order waits in the refunds list with Stripe's error (a real order's goes through).
                provider, reference = Payment.Provider.CARD, f"pi_demo_{reg.order.pk:06d}"
            else:
                provider = Payment.Provider.CHECK if n % 3 else Payment.Provider.CASH
                reference = f"{1000 + reg.order.pk}" if provider == Payment.Provider.CHECK else ""
            payment = Payment.objects.create(
                order=reg.order, provider=provider, amount=reg.price, status=Payment.Status.SUCCEEDED,
                reference=reference,
                payer=f"{reg.order.first_name} {reg.order.last_name}" if provider == Payment.Provider.CHECK else "",
                succeeded_at=now,
            )
            payment.registrations.add(reg)
            if reg.status == Registration.Status.CANCELLED:  # its class was cancelled before the demo began
                Refund.objects.create(
                    payment=payment, registration=reg, amount=reg.price, status=Refund.Status.DONE,
                    reason="Class cancelled at the week-out cutoff (below its minimum): full refund.",
                    reference=f"re_demo_{reg.pk:06d}" if provider == Payment.Provider.CARD else f"R{2000 + reg.pk}",
                    dedupe_key=f"cancel:{reg.pk}", done_at=reg.cancelled_at,
                )


#: Demo gifts to Pass the Buck (checks, so each has a number that makes it findable again):
#: enough for a few half-price scholarships, so "Ask for a scholarship" works in the demo.
DEMO_GIFTS = [
    ("Marion", "Keller", Decimal("100.00"), "demo-1001", "In memory of Ruth Keller", False),
    ("Dale", "Ostrander", Decimal("50.00"), "demo-1002", "", True),
    ("Priya", "Natarajan", Decimal("25.00"), "demo-1003", "In honor of the library's volunteers", False),
]


def seed_fund(now: dt.datetime) -> None:
    """The demo's Pass the Buck gifts, once each (no e-mail address: no receipt is sent)."""
    for first, last, amount, number, dedication, anonymous in DEMO_GIFTS:
        donation, _ = Donation.objects.get_or_create(
            method=Donation.Method.CHECK, reference=number,
            defaults={"first_name": first, "last_name": last, "amount": amount, "dedication": dedication,
                      "anonymous": anonymous, "status": Donation.Status.SUCCEEDED, "succeeded_at": now,
                      "created_at": now},
        )
        fund_donation_record(amount=donation.amount, dedupe_key=f"donation:{donation.pk}",
                             reason=f"Donation {donation.receipt_number} (check)", now=now)
