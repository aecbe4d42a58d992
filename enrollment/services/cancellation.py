"""Cancellation by the patron or staff: the registration cancelled (or the waitlist left) and the
freed seat offered to the waitlist; the refund owed follows from the facts (finance settles it)."""

import datetime as dt

from django.utils import timezone

from core.locking import locked_atomic

from .. import messages
from ..models import Registration
from ..selectors import refund_due
from . import seats
from .errors import InvalidTransition
from .waitlist import waitlist_offer_next

S = Registration.Status


def registration_cancel(
    *, registration_id: int, now: dt.datetime | None = None, actor=None, actor_label: str = "patron",
    reason: str = "",
) -> Registration:
    """Cancel a registration (or leave the waitlist) and offer the freed seat to the waitlist.

    The refund owed follows from the registration's state (see ``enrollment.selectors.refund_due``);
    the caller settles it with ``finance`` right after, and finance then tells the patron how the
    refund comes back; without a refund due the message is queued here. Cancelling twice changes
    nothing. Locks: the course row, then the registration.
    """
    now = now or timezone.now()
    with locked_atomic():
        course_id = Registration.objects.values_list("course_id", flat=True).get(pk=registration_id)
        courses = seats.courses_lock([course_id])
        qs = Registration.objects.select_related("order")
        registration = (qs.select_for_update(of=("self",)) if seats.LOCKING else qs).get(pk=registration_id)
        registration.course = courses[course_id]
        if registration.status == S.CANCELLED:
            return registration
        if registration.status not in (S.HELD, S.CONFIRMED, S.WAITLISTED, S.OFFERED):
            raise InvalidTransition("This registration can no longer be cancelled.")
        was = registration.status
        registration.cancelled_at = now
        seats.registration_transition(registration, S.CANCELLED, now=now, actor=actor, actor_label=actor_label,
                                      reason=reason or ("left the waitlist" if was == S.WAITLISTED else "cancelled"),
                                      fields=("cancelled_at",))
        if refund_due(registration) <= 0:  # else finance tells them, with how the refund comes back
            messages.queue_cancelled(registration, was=was)
        if was in (S.HELD, S.CONFIRMED, S.OFFERED):
            waitlist_offer_next(course_id=course_id, now=now)
    return registration
