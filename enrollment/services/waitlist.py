"""The waitlist and expiry: free seats offered to the people in line, and holds and offers that
ran out released (then offered on)."""

import datetime as dt

from django.utils import timezone

from core.locking import locked_atomic

from .. import messages
from ..models import EnrollmentOptions, Registration
from . import seats

S = Registration.Status


def waitlist_offer_next(*, course_id: int, now: dt.datetime | None = None) -> list[Registration]:
    """Offer free seats of a course to the people first in its waitlist (oldest first).

    An offer holds the seat for ``EnrollmentOptions.offer_hours``. Nothing is offered once the
    course is closed or cancelled. Locks: the course row.
    """
    now = now or timezone.now()
    offered: list[Registration] = []
    options = EnrollmentOptions.current()
    with locked_atomic():
        course = seats.courses_lock([course_id]).get(course_id)
        if course is None or not course.takes_registrations(now):
            return offered
        free = course.capacity - seats.seats_taken(course_id, now=now)
        if free <= 0:
            return offered
        waiting = Registration.objects.filter(course_id=course_id, status=S.WAITLISTED).select_related("order")
        for registration in waiting.order_by("created_at", "pk")[:free]:
            registration.course = course
            closes = course.registration_closes_at
            registration.expires_at = min(now + dt.timedelta(hours=options.offer_hours), closes)
            seats.registration_transition(registration, S.OFFERED, now=now, reason="a seat opened",
                                          fields=("expires_at",))
            messages.queue_waitlist_offer(registration)
            offered.append(registration)
    return offered


def holds_expire(*, now: dt.datetime | None = None) -> int:
    """Release holds and waitlist offers that ran out, then offer the freed seats to the
    waitlist. Safe to run twice at once: each row is re-read under its course's lock."""
    now = now or timezone.now()
    due = (
        Registration.objects.filter(status__in=[S.HELD, S.OFFERED], expires_at__lte=now)
        .values_list("course_id", flat=True).distinct()
    )
    released = 0
    for course_id in sorted(set(due)):
        with locked_atomic():
            seats.courses_lock([course_id])
            qs = Registration.objects.filter(course_id=course_id, status__in=[S.HELD, S.OFFERED], expires_at__lte=now)
            qs = qs.select_related("order", "course")
            for registration in qs.select_for_update(of=("self",)) if seats.LOCKING else qs:
                was_offer = registration.status == S.OFFERED
                seats.registration_transition(registration, S.EXPIRED, now=now,
                                              reason="waitlist offer ran out" if was_offer else "hold ran out")
                if was_offer:
                    messages.queue_offer_expired(registration)
                released += 1
            waitlist_offer_next(course_id=course_id, now=now)
    return released
