"""The messages enrollment sends, queued through the outbox in the caller's transaction.

Templates: ``templates/emails/<name>.{subject.txt,txt,html}``. Every context carries ``site``
(the library's options) and ``manage_url`` (the patron's signed "My registrations" link).
Dedupe keys make each message at most once per cause.
"""

import base64
from urllib.parse import urlparse

from django.conf import settings

from classes.ics import course_calendar
from core.models import SiteOptions
from core.outbox import outbox_enqueue

from .links import absolute, manage_url
from .models import Order, Registration


def _base(order: Order) -> dict:
    return {
        "site": SiteOptions.current(),
        "order": order,
        "buyer_first_name": order.first_name,
        "manage_url": manage_url(order.email) if order.email else "",
        "site_url": settings.SITE_URL,
    }


def _course_block(registration: Registration) -> dict:
    course = registration.course
    return {
        "registration": registration,
        "course": course,
        "course_url": absolute(course.get_absolute_url()),
        "meetings": course.ordered_meetings(),
        "venue": course.venue,
    }


def _ics_attachment(course) -> dict:
    host = urlparse(settings.SITE_URL).hostname or "localhost"
    data = course_calendar(course, course_url=absolute(course.get_absolute_url()), host=host,
                           program_name=SiteOptions.current().program_name)
    return {"filename": f"{course.slug}.ics", "mimetype": "text/calendar",
            "content_b64": base64.b64encode(data).decode("ascii")}


def queue_confirmation(order: Order, registrations: list[Registration]) -> None:
    """Confirmation and receipt: each class, its meetings, venue and map link, what to bring,
    the amount, an .ics per class attached, and the link to cancel."""
    ids = "-".join(str(r.pk) for r in sorted(registrations, key=lambda r: r.pk))
    context = _base(order) | {
        "items": [_course_block(r) for r in registrations],
        "total": sum((r.price for r in registrations), start=type(registrations[0].price)("0.00")),
    }
    seen, attachments = set(), []
    for r in registrations:
        if r.course_id not in seen:
            seen.add(r.course_id)
            attachments.append(_ics_attachment(r.course))
    outbox_enqueue(to=order.email, template="registration_confirmed", context=context,
                   dedupe_key=f"confirmation:{order.pk}:{ids}", attachments=attachments)


def queue_waitlist_joined(registration: Registration) -> None:
    from .selectors import waitlist_position

    context = _base(registration.order) | _course_block(registration) | {
        "position": waitlist_position(registration),
    }
    outbox_enqueue(to=registration.order.email, template="waitlist_joined", context=context,
                   dedupe_key=f"waitlist-joined:{registration.pk}")


def queue_waitlist_offer(registration: Registration) -> None:
    from django.urls import reverse

    from .links import manage_token

    context = _base(registration.order) | _course_block(registration) | {
        "claim_url": absolute(reverse("enrollment:offer-claim", args=[manage_token(registration.order.email),
                                                                      registration.pk])),
        "expires_at": registration.expires_at,
    }
    outbox_enqueue(to=registration.order.email, template="waitlist_offer", context=context,
                   dedupe_key=f"offer:{registration.pk}")


def queue_offer_expired(registration: Registration) -> None:
    context = _base(registration.order) | _course_block(registration)
    outbox_enqueue(to=registration.order.email, template="waitlist_offer_expired", context=context,
                   dedupe_key=f"offer-expired:{registration.pk}")


def queue_cancelled(registration: Registration, *, was: str) -> None:
    from .selectors import refund_due

    context = _base(registration.order) | _course_block(registration) | {
        "was_waitlisted": was in (Registration.Status.WAITLISTED,),
        "refund_due": refund_due(registration),
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
        url = manage_url(email)
    except ValueError:  # no registrations under that address: nothing to send
        return
    context = {"site": SiteOptions.current(), "manage_url": url, "site_url": settings.SITE_URL}
    outbox_enqueue(to=email, template="manage_link", context=context, dedupe_key=f"manage-link:{digest}:{minute}")
