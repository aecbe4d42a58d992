"""The patron's messages about seats: confirmation and receipt, the waitlist (joined, an offer, an
offer that ran out), the scholarship waitlist, a cancellation, and the "My registrations" link."""

from decimal import Decimal

from django.conf import settings

from core.models import SiteOptions
from core.outbox import outbox_enqueue

from ..links import absolute
from ..models import Order, Registration
from . import common


def queue_confirmation(order: Order, registrations: list[Registration]) -> None:
    """Confirmation and receipt: each class, its meetings, venue and map link, what to bring,
    the amount, an .ics per class attached, and the link to cancel.

    Composed once: the classes are read once with their venue, instructor and meetings (two
    queries for any number of classes), each class's block and calendar file are made once and
    shared by its attendees."""
    ids = "-".join(str(r.pk) for r in sorted(registrations, key=lambda r: r.pk))
    base = common.base_context(order)
    courses = common.courses_for_messages(r.course_id for r in registrations)
    blocks: dict[int, dict] = {}
    attachments = []
    for r in registrations:
        if r.course_id not in blocks:
            course = courses[r.course_id]
            blocks[r.course_id] = common.course_fields(course)
            attachments.append(common.ics_attachment(course, program_name=base["site"].program_name,
                                                     course_url=blocks[r.course_id]["course_url"]))
    context = base | {
        "items": [{"registration": r} | blocks[r.course_id] for r in registrations],
        "total": sum((r.patron_price for r in registrations), start=type(registrations[0].price)("0.00")),
    }
    outbox_enqueue(to=order.email, template="registration_confirmed", context=context,
                   dedupe_key=f"confirmation:{order.pk}:{ids}", attachments=attachments)


def queue_waitlist_joined(registration: Registration) -> None:
    from ..selectors import waitlist_position

    context = common.base_context(registration.order) | common.course_context(registration) | {
        "position": waitlist_position(registration),
    }
    outbox_enqueue(to=registration.order.email, template="waitlist_joined", context=context,
                   dedupe_key=f"waitlist-joined:{registration.pk}")


def queue_waitlist_offer(registration: Registration) -> None:
    from django.urls import reverse

    from ..links import manage_token

    context = common.base_context(registration.order) | common.course_context(registration) | {
        "claim_url": absolute(reverse("enrollment:offer-claim-link", args=[manage_token(registration.order.email),
                                                                      registration.pk])),
        "expires_at": registration.expires_at,
    }
    outbox_enqueue(to=registration.order.email, template="waitlist_offer", context=context,
                   dedupe_key=f"offer:{registration.pk}")


def _scholarship_wait_base(wait) -> dict:
    course = wait.course
    return {
        "site": SiteOptions.current(), "wait": wait, "buyer_first_name": wait.first_name,
        "attendee_name": f"{wait.attendee_first_name} {wait.attendee_last_name}".strip(),
        "course": course, "course_url": absolute(course.get_absolute_url()), "meetings": course.ordered_meetings(),
        "venue": course.venue, "manage_url": common.manage_url_or_blank(wait.email), "site_url": settings.SITE_URL,
    }


def queue_scholarship_wait_joined(wait) -> None:
    """"You are on the scholarship waitlist": nothing is held or charged yet."""
    outbox_enqueue(to=wait.email, template="scholarship_wait_joined", context=_scholarship_wait_base(wait),
                   dedupe_key=f"scholarship-wait:{wait.pk}")


def queue_scholarship_wait_closed(wait) -> None:
    outbox_enqueue(to=wait.email, template="scholarship_wait_closed", context=_scholarship_wait_base(wait),
                   dedupe_key=f"scholarship-wait-closed:{wait.pk}")


def queue_scholarship_offer(wait, registration: Registration) -> None:
    """The fund can pay half now: a seat is held with the scholarship; pay your half by the link."""
    from django.urls import reverse

    context = _scholarship_wait_base(wait) | {
        "registration": registration, "expires_at": registration.expires_at,
        "you_pay": registration.patron_price,
        "pay_url": absolute(reverse("finance:pay-link", args=[registration.order.token])),
    }
    outbox_enqueue(to=wait.email, template="scholarship_offer", context=context,
                   dedupe_key=f"scholarship-offer:{wait.pk}")


def queue_offer_expired(registration: Registration) -> None:
    context = common.base_context(registration.order) | common.course_context(registration)
    outbox_enqueue(to=registration.order.email, template="waitlist_offer_expired", context=context,
                   dedupe_key=f"offer-expired:{registration.pk}")


def queue_cancelled(registration: Registration, *, was: str, refunds=None) -> None:
    """"Registration cancelled" (or "you left the waitlist"). When a refund is due, finance
    queues it once it has settled the refund, with ``refunds``: a ``finance.refund_words``
    note saying how each part comes back (enrollment does not read payments, so it never says)."""
    context = common.base_context(registration.order) | common.course_context(registration) | {
        "was_waitlisted": was in (Registration.Status.WAITLISTED,),
        "refunds": refunds,
        "settled": refunds is not None,
        "refund_due": refunds.total if refunds else Decimal("0.00"),
    }
    outbox_enqueue(to=registration.order.email, template="registration_cancelled", context=context,
                   dedupe_key=f"cancelled:{registration.pk}")


def queue_manage_link(email: str) -> None:
    """A fresh "My registrations" link, on request (at most one a minute per address)."""
    import hashlib

    from django.utils import timezone

    minute = timezone.now().strftime("%Y%m%d%H%M")
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]  # no address in the key
    try:
        url = common.manage_url(email)
    except ValueError:  # no registrations under that address: nothing to send
        return
    context = {"site": SiteOptions.current(), "manage_url": url, "site_url": settings.SITE_URL}
    outbox_enqueue(to=email, template="manage_link", context=context, dedupe_key=f"manage-link:{digest}:{minute}")
