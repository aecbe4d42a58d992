"""Reads of the week-out pages (``enrollment.staff.weekout``): the call list and its classes, the
upcoming cutoffs, and the recent decisions. Each is one query."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min, Q
from django.utils import timezone

from classes.models import Course

from ..models import CallListEntry, CourseDecision
from . import course_seats_annotate

#: Decisions shown on the cutoffs page: those of the last this-many days, at most ``DECISIONS_LIMIT``.
DECISION_DAYS = 60
DECISIONS_LIMIT = 200


def call_list_courses() -> list[tuple[int, str]]:
    """(id, label) of every course with someone on the call list. One query."""
    rows = (
        CallListEntry.objects.order_by().values_list("registration__course_id", "registration__course__title",
                                                     "registration__course__semester__name").distinct()
    )
    return sorted(((pk, f"{title} ({semester})") for pk, title, semester in rows), key=lambda c: c[1].casefold())


def call_list_entries(*, status: str = "todo", course_id: int | None = None):
    """The call list's rows: ``status`` "todo" (not called yet), "called" or "all", of one course or
    every course; by whether and when called, class, buyer and attendee. One query."""
    entries = CallListEntry.objects.select_related(
        "registration", "registration__order", "registration__course", "registration__course__semester",
        "called_by",
    )
    if status == "todo":
        entries = entries.filter(called_at__isnull=True)
    elif status == "called":
        entries = entries.filter(called_at__isnull=False)
    if course_id:
        entries = entries.filter(registration__course_id=course_id)
    entries = entries.order_by("called_at", "registration__course__title", "registration__order__last_name",
                               "registration__attendee_last_name", "pk")
    return entries


@dataclass
class UpcomingCourse:
    course: Course
    closes_at: dt.datetime | None
    nudge_on: dt.date | None  # the day the low-enrollment nudge goes out, for a course below its minimum
    passed: bool  # registration has closed; the week-out run has not decided the course yet

    @property
    def confirmed(self) -> int:
        return self.course.confirmed_count

    @property
    def short_by(self) -> int:
        return self.course.needed_to_run


def upcoming_cutoffs(*, now: dt.datetime, nudge_days: int) -> list[UpcomingCourse]:
    """Open courses that have not started, soonest cutoff first (courses without meetings last),
    with confirmed and needed-to-run counts, and the day of the nudge (``nudge_days`` before the
    cutoff) for those below their minimum. One query."""
    courses = course_seats_annotate(
        Course.objects.filter(status=Course.Status.OPEN)
        .annotate(first_meeting_start=Min("meetings__starts_at"))
        .filter(Q(first_meeting_start__gt=now) | Q(first_meeting_start__isnull=True))
        .select_related("semester", "venue", "instructor"),
        now=now,
    )
    found = []
    for course in courses:
        closes = course.registration_closes_at
        nudge_on = None
        if closes is not None and course.needed_to_run:
            nudge_on = timezone.localtime(closes).date() - dt.timedelta(days=nudge_days)
        found.append(UpcomingCourse(course=course, closes_at=closes, nudge_on=nudge_on,
                                    passed=closes is not None and closes <= now))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda u: (u.closes_at or far, u.course.title.casefold(), u.course.pk))


def recent_decisions(*, now: dt.datetime, days: int = DECISION_DAYS, limit: int = DECISIONS_LIMIT):
    """The decisions of the last ``days`` days, newest first. One query."""
    return list(
        CourseDecision.objects.filter(decided_at__gte=now - dt.timedelta(days=days))
        .select_related("course", "course__semester", "decided_by")
        .order_by("-decided_at", "course__title")[:limit]
    )
