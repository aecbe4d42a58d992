"""What every enrollment message shares: the patron's context (the library, the order, the signed
"My registrations" link), a course's block, its calendar attachment, and the words of a week-out
decision (first meeting, local time, why a course was cancelled)."""

import base64
from urllib.parse import urlparse

from django.conf import settings
from django.utils import dateformat, timezone

from classes.ics import course_calendar
from core.models import SiteOptions

from ..links import absolute, manage_url
from ..models import CourseDecision, Order, Registration


def base_context(order: Order) -> dict:
    return {
        "site": SiteOptions.current(),
        "order": order,
        "buyer_first_name": order.first_name,
        "manage_url": manage_url(order.email) if order.email else "",
        "site_url": settings.SITE_URL,
    }


def course_fields(course) -> dict:
    """What every message about a course shows of it: the course, its page, meetings and venue."""
    return {
        "course": course,
        "course_url": absolute(course.get_absolute_url()),
        "meetings": course.ordered_meetings(),
        "venue": course.venue,
    }


def courses_for_messages(course_ids) -> dict:
    """The courses a message shows, by id, read once with all their blocks use (venue,
    instructor, semester, meetings and their venues): two queries however many classes."""
    from django.db.models import Prefetch

    from classes.models import Course, Meeting

    qs = (Course.objects.filter(pk__in=set(course_ids)).select_related("venue", "instructor", "semester")
          .prefetch_related(Prefetch("meetings", queryset=Meeting.objects.select_related("venue"))))
    return {course.pk: course for course in qs}


def course_context(registration: Registration) -> dict:
    return {"registration": registration} | course_fields(registration.course)


def ics_attachment(course, *, removed=(), program_name: str | None = None, course_url: str = "") -> dict:
    """The course's calendar file as it is now (SEQUENCE = its revision), with each meeting in
    ``removed`` (taken off by a change) as a cancelled event. ``program_name`` and ``course_url``
    when the caller has them already (else they are read)."""
    host = urlparse(settings.SITE_URL).hostname or "localhost"
    if program_name is None:
        program_name = SiteOptions.current().program_name
    data = course_calendar(course, course_url=course_url or absolute(course.get_absolute_url()), host=host,
                           program_name=program_name, removed=removed)
    return {"filename": f"{course.slug}.ics", "mimetype": "text/calendar",
            "content_b64": base64.b64encode(data).decode("ascii")}


def manage_url_or_blank(email: str) -> str:
    """The "My registrations" link, when the patron has an order to show (a scholarship-waitlist
    entry alone is not one)."""
    try:
        return manage_url(email)
    except ValueError:
        return ""


def first_meeting(course):
    meetings = course.ordered_meetings()
    return meetings[0] if meetings else None


def when_text(value) -> str:
    """A local date and time as staff say it: "Tuesday, March 5 at 6:30 PM"."""
    local = timezone.localtime(value)
    return f"{dateformat.format(local, 'l, F j')} at {dateformat.format(local, 'g:i A')}"


def course_decision(course) -> CourseDecision | None:
    """The course's week-out decision (cached on the course instance), or None."""
    try:
        return course.decision
    except CourseDecision.DoesNotExist:
        return None


def cancellation_cause(course) -> tuple[bool, str]:
    """(too few registered?, the staff's reason) of a cancelled course. The week-out run cancels
    for too few; staff may cancel for another reason (recorded on the decision, and told to
    patrons — the call script reads it out too)."""
    decision = course_decision(course)
    if decision is None or decision.automatic:
        return True, ""
    return False, decision.reason  # staff decided it, for the reason they gave: not "too few"
