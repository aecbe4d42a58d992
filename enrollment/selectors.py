"""Reads of the enrollment app: how many seats a course has taken and left."""

import datetime as dt

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from .models import Registration

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
