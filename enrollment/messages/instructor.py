"""The instructor's messages: the final roster of a class that runs (names only), its cancellation,
and the low-enrollment nudge."""

from django.conf import settings

from core.models import SiteOptions
from core.outbox import outbox_enqueue

from ..links import absolute
from ..models import Registration
from . import common


def _instructor_context(course) -> dict:
    return {
        "site": SiteOptions.current(),
        "site_url": settings.SITE_URL,
        "course": course,
        "course_url": absolute(course.get_absolute_url()),
        "meetings": course.ordered_meetings(),
        "first_meeting": common.first_meeting(course),
        "venue": course.venue,
        "instructor": course.instructor,
    }


def _confirmed_count(course) -> int:
    """The count the course was decided on (its ``CourseDecision``), else the count now."""
    decision = common.course_decision(course)
    if decision is not None:
        return decision.confirmed_count
    return Registration.objects.filter(course=course, status=Registration.Status.CONFIRMED).count()


def instructor_roster_names(course) -> list[str]:
    """The final roster for the instructor: confirmed attendees' names, by last name — nothing
    else (no contact details, payment or scholarship)."""
    rows = Registration.objects.filter(course=course, status=Registration.Status.CONFIRMED).values_list(
        "attendee_first_name", "attendee_last_name")
    rows = sorted(rows, key=lambda r: (r[1].casefold(), r[0].casefold()))
    return [f"{first} {last}".strip() for first, last in rows]


def queue_instructor_roster(course) -> None:
    """The class runs: the final roster (names only) and the first-class checklist."""
    names = instructor_roster_names(course)
    context = _instructor_context(course) | {"attendees": names, "confirmed_count": len(names)}
    outbox_enqueue(to=course.instructor.email, template="instructor_roster", context=context,
                   dedupe_key=f"instructor-roster:{course.pk}")


def queue_instructor_cancelled(course) -> None:
    """The class is cancelled for too few registrations (or the reason staff gave); registrants
    are told and refunded."""
    too_few, staff_reason = common.cancellation_cause(course)
    context = _instructor_context(course) | {"confirmed_count": _confirmed_count(course), "too_few": too_few,
                                             "staff_reason": staff_reason}
    outbox_enqueue(to=course.instructor.email, template="instructor_cancelled", context=context,
                   dedupe_key=f"instructor-cancelled:{course.pk}")


def queue_instructor_nudge(course, needed: int) -> None:
    """The class is short of its minimum before the cutoff: N more needed, the link to share."""
    context = _instructor_context(course) | {"needed": needed, "confirmed_count": course.minimum - needed}
    outbox_enqueue(to=course.instructor.email, template="instructor_nudge", context=context,
                   dedupe_key=f"instructor-nudge:{course.pk}")
