"""Reads of the enrollment app: how many seats a course has taken and left."""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from ..models import Registration

S = Registration.Status


def seats_taken_q(*, now: dt.datetime) -> Q:
    """Seats taken = confirmed + unexpired holds + unexpired waitlist offers."""
    return Q(status=S.CONFIRMED) | Q(status__in=[S.HELD, S.OFFERED], expires_at__gt=now)


def _count(condition: Q) -> Subquery:
    rows = (
        Registration.objects.filter(condition, course=OuterRef("pk"))
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def course_seats_annotate(courses: QuerySet, *, now: dt.datetime) -> QuerySet:
    """Add ``seats_taken``, ``confirmed_count``, ``seats_left`` and ``needed_to_run`` to a
    queryset of courses, as subqueries (no extra query per course)."""
    return courses.annotate(
        seats_taken=_count(seats_taken_q(now=now)),
        confirmed_count=_count(Q(status=S.CONFIRMED)),
    ).annotate(
        seats_left=Greatest(F("capacity") - F("seats_taken"), Value(0)),
        needed_to_run=Greatest(F("minimum") - F("confirmed_count"), Value(0)),
    )


def refund_due(registration: Registration) -> Decimal:
    """What the refund policy owes for a registration, from its state alone (finance compares
    it with what was actually paid and refunded):

    - cancelled by the patron or staff before the week-out cutoff, after it was confirmed:
      the full price;
    - cancelled after the cutoff: nothing;
    - anything else (still active, never confirmed, expired): nothing.

    - the course was cancelled by the program (the week-out run or staff): the full price.

    Refunds outside policy are decided by staff and recorded with their own reason. "The full
    price" is the patron's own share: a Pass the Buck award goes back to the fund, not to them.
    """
    if registration.status != S.CANCELLED or registration.confirmed_at is None or registration.cancelled_at is None:
        return Decimal("0.00")
    if registration.course.status == registration.course.Status.CANCELLED:
        return registration.patron_price  # the program cancelled the class: everyone gets everything back
    closes = registration.course.registration_closes_at
    if closes is not None and registration.cancelled_at >= closes:
        return Decimal("0.00")
    return registration.patron_price


def registrations_for_email(email: str):
    """Every registration bought with ``email`` (the "My registrations" page), newest first."""
    return (
        Registration.objects.filter(order__email__iexact=email)
        .select_related("course", "course__semester", "course__venue", "order")
        .prefetch_related("course__meetings")
        .order_by("-created_at")
    )


def waitlist_position(registration: Registration) -> int:
    """1 for the first person in line."""
    return Registration.objects.filter(
        course_id=registration.course_id, status=S.WAITLISTED, created_at__lte=registration.created_at,
    ).exclude(created_at=registration.created_at, pk__gt=registration.pk).count()


def course_seats_taken(course_id: int, *, now: dt.datetime) -> int:
    """Seats taken in a course now (confirmed, unexpired holds and offers): its capacity cannot
    go below this."""
    return Registration.objects.filter(seats_taken_q(now=now), course_id=course_id).count()


def course_change_audience(course_id: int, *, now: dt.datetime) -> list[Registration]:
    """Who is told when a course changes: its confirmed registrations, unexpired holds and offers,
    and its waitlist, oldest first, with their orders. One query (the fund entries behind each
    patron's own price are read when a message needs them)."""
    return list(
        Registration.objects.filter(
            Q(status__in=[S.CONFIRMED, S.WAITLISTED]) | Q(status__in=[S.HELD, S.OFFERED], expires_at__gt=now),
            course_id=course_id,
        ).select_related("order").order_by("created_at", "pk")
    )
