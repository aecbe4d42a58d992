"""Reads for class rosters: who is coming to a course, their attendance at each meeting, and
who is waiting for a seat. Used by the roster pages, the printable rosters and the CSV
(``enrollment.staff.rosters``).

Privacy: a roster carries the attendee's name, their age when the class asks it (kids' and teen
classes), the buyer's phone and e-mail (for staff to reach them) and attendance — nothing else
(no payment, no scholarship, no address). Add a column here only after asking whether it
belongs on a sheet of paper left on a classroom table.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, F, Min, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from classes import schedule
from classes.models import Course, Meeting

from ..models import Registration

S = Registration.Status

#: Courses that have (or had) a roster: not drafts, not cancelled.
ROSTER_STATUSES = (Course.Status.OPEN, Course.Status.RUNNING, Course.Status.COMPLETED)
#: Shown apart from the attendees, in line order: offers first, then the waitlist.
WAITING_STATUSES = (S.OFFERED, S.WAITLISTED)


def course_asks_age(course: Course) -> bool:
    """Checkout asks the attendee's age for kids' and teen classes only (``AttendeeForm``)."""
    return course.audience in (Course.Audience.KIDS, Course.Audience.TEENS)


@dataclass
class RosterRow:
    registration: Registration
    marks: list[bool | None]  # per meeting, in meeting order: True present, False absent, None not marked
    no_show: bool = False

    @property
    def name(self) -> str:
        return self.registration.attendee_name

    @property
    def age(self) -> int | None:
        return self.registration.attendee_age

    @property
    def phone(self) -> str:
        return self.registration.order.phone

    @property
    def email(self) -> str:
        return self.registration.order.email


@dataclass
class Roster:
    course: Course
    meetings: list[Meeting]
    rows: list[RosterRow]  # confirmed attendees, by last name
    waiting: list[Registration]  # offered, then waitlisted, each in line order
    asks_age: bool

    @property
    def confirmed_count(self) -> int:
        return len(self.rows)

    @property
    def no_show_count(self) -> int:
        return sum(row.no_show for row in self.rows)


def is_no_show(marks: list[bool | None]) -> bool:
    """A no-show: marked absent at the course's first meeting, or absent at every meeting they
    have been marked at so far (at least one).

    "Not marked" is not "absent": a meeting where attendance was not taken, or was taken before
    this attendee registered, counts neither way. ``marks`` are per meeting in meeting order
    (True present, False absent, None not marked).
    """
    if marks and marks[0] is False:
        return True
    recorded = [mark for mark in marks if mark is not None]
    return bool(recorded) and not any(recorded)


def roster_courses(courses: QuerySet[Course]) -> QuerySet[Course]:
    """``courses`` with everything a roster shows, in a fixed number of queries whatever the
    number of courses: the courses, their meetings, their confirmed registrations (with the
    order), those registrations' attendance, and the waiting registrations."""
    confirmed = (
        Registration.objects.filter(status=S.CONFIRMED)
        .select_related("order")
        .prefetch_related("attendance")
    )
    waiting = (
        Registration.objects.filter(status__in=WAITING_STATUSES).select_related("order").order_by("created_at", "pk")
    )
    return courses.select_related("semester", "instructor", "venue").prefetch_related(
        Prefetch("meetings", queryset=Meeting.objects.select_related("venue").order_by("starts_at", "pk")),
        Prefetch("registrations", queryset=confirmed, to_attr="roster_confirmed"),
        Prefetch("registrations", queryset=waiting, to_attr="roster_waiting"),
    )


def roster_build(course: Course) -> Roster:
    """The roster of one course loaded by :func:`roster_courses` (no further queries)."""
    meetings = sorted(course.meetings.all(), key=lambda m: (m.starts_at, m.pk))
    index = {m.pk: i for i, m in enumerate(meetings)}
    registrations = sorted(
        course.roster_confirmed,
        key=lambda r: (r.attendee_last_name.casefold(), r.attendee_first_name.casefold(), r.pk),
    )
    rows = []
    for registration in registrations:
        marks: list[bool | None] = [None] * len(meetings)
        for attendance in registration.attendance.all():
            i = index.get(attendance.meeting_id)
            if i is not None:
                marks[i] = attendance.present
        rows.append(RosterRow(registration=registration, marks=marks, no_show=is_no_show(marks)))
    waiting = sorted(course.roster_waiting, key=lambda r: (WAITING_STATUSES.index(r.status), r.created_at, r.pk))
    return Roster(course=course, meetings=meetings, rows=rows, waiting=waiting, asks_age=course_asks_age(course))


def rosters_build(courses: Iterable[Course]) -> list[Roster]:
    return [roster_build(course) for course in courses]


def roster_course_list(*, semester=None, week_of: dt.date | None = None) -> QuerySet[Course]:
    """The courses to print rosters for: a semester's, and/or those meeting in the week (Monday
    to Sunday, local time) that contains ``week_of``; drafts and cancelled courses left out.
    Ordered by first meeting, then title."""
    courses = Course.objects.filter(status__in=ROSTER_STATUSES)
    if semester is not None:
        courses = courses.filter(semester=semester)
    if week_of is not None:
        start, end = week_bounds(week_of)
        courses = courses.filter(Exists(Meeting.objects.filter(course=OuterRef("pk"), starts_at__gte=start,
                                                               starts_at__lt=end)))
    return courses.annotate(first_meeting_start=Min("meetings__starts_at")).order_by(
        F("first_meeting_start").asc(nulls_last=True), "title", "pk"
    )


def week_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of the Monday of ``day``'s week, and of the Monday after."""
    monday = day - dt.timedelta(days=day.weekday())
    return schedule.local_midnight(monday), schedule.local_midnight(monday + dt.timedelta(days=7))


def this_week(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    return week_bounds(schedule.local(now or timezone.now()).date())
