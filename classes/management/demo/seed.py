"""Load (or refresh) the whole demo: the current semester (``courses``), the next one
(``next_semester``), the venues' maps (``maps``) and the fund's gifts (``orders``), in one
transaction, and the counts the command prints.

The generated schedule is checked with :func:`classes.selectors.meeting_problems`; a broken rule
raises :class:`CommandError` and rolls everything back. Only counts are returned, never attendee
names or e-mail addresses.
"""

import datetime as dt
from collections import Counter

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from classes.models import Category, Course, Instructor, Meeting, Semester, Venue
from enrollment.models import Registration

from . import maps, next_semester
from .courses import check_schedule, seed_courses, seed_people_and_places, seed_semester, seed_site
from .orders import seed_fund


def seed_demo(*, now: dt.datetime | None = None) -> dict:
    """Load or refresh the demo semester and the next one (``next_semester``); returns
    counts for the summary."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        options = seed_site()
        next_semester.make_way()
        semester = seed_semester(today)
        categories, venues, instructors = seed_people_and_places()
        maps.venue_maps_ensure(venues.values())  # a drawn map per venue that has none (for reminders)
        courses = seed_courses(semester, categories, venues, instructors, today=today, now=now, options=options)
        following, next_courses = next_semester.seed_next_semester(semester, categories, venues, instructors, now=now,
                                                                   options=options)
        seed_fund(now)
        problems = check_schedule(courses + next_courses)
        if problems:
            raise CommandError("The demo schedule breaks a scheduling rule:\n  " + "\n  ".join(problems))
    return {**summarize(semester, courses, now),
            "next semester": f"{following.name} ({following.starts_on:%b %-d} – "
                             f"{following.ends_on:%b %-d, %Y}), {len(next_courses)} courses, registration open"}


def summarize(semester: Semester, courses: list[Course], now: dt.datetime) -> dict:
    by_status = Counter(course.status for course in courses)
    past = soon = later = 0
    for course in courses:
        days_left = (course.registration_closes_at - now) / dt.timedelta(days=1)
        past += days_left <= 0
        soon += 0 < days_left <= 4
        later += days_left >= 21
    registrations = Registration.objects.filter(course__semester=semester)
    instructors = Instructor.objects.filter(courses__semester=semester).distinct()
    return {
        "semester": f"{semester.name} ({semester.starts_on:%b %-d} – {semester.ends_on:%b %-d, %Y})",
        "categories": Category.objects.filter(courses__semester=semester).distinct().count(),
        "venues": Venue.objects.filter(courses__semester=semester).distinct().count(),
        "instructors": instructors.count(),
        "volunteer instructors": instructors.filter(pay_basis=Instructor.PayBasis.VOLUNTEER).count(),
        "courses": len(courses),
        "courses by status": ", ".join(f"{status} {n}" for status, n in sorted(by_status.items())),
        "meetings": Meeting.objects.filter(course__semester=semester).count(),
        "registration closed": past,
        "closing within 4 days": soon,
        "closing in 3+ weeks": later,
        "confirmed registrations": registrations.filter(status=Registration.Status.CONFIRMED).count(),
        "cancelled registrations": registrations.filter(status=Registration.Status.CANCELLED).count(),
    }
