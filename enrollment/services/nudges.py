"""The low-enrollment nudge: a course still below its minimum some days before its cutoff asks its
registrants and its instructor to help it run (``nudges_send``, run daily)."""

import datetime as dt
import logging

from django.db.models import F
from django.utils import timezone

from classes.models import Course
from core.locking import locked_atomic

from .. import messages
from ..models import CallListEntry, EnrollmentOptions, Registration
from ..selectors import course_seats_annotate
from . import call_list, seats
from .weekout import MAX_CUTOFF_DAYS, first_start

log = logging.getLogger(__name__)

S = Registration.Status
T = CallListEntry.Topic


def courses_to_nudge(*, now: dt.datetime, nudge_days: int) -> list[Course]:
    """Open courses below their minimum whose cutoff is still ahead, at most ``nudge_days`` away,
    in semesters whose registration has opened; one query."""
    window_end = now + dt.timedelta(days=nudge_days)
    qs = (
        Course.objects.filter(status=Course.Status.OPEN, semester__registration_opens_at__lte=now)
        .select_related("semester").annotate(first_meeting_start=first_start())
        .filter(first_meeting_start__isnull=False, first_meeting_start__gt=now,
                first_meeting_start__lt=window_end + dt.timedelta(days=MAX_CUTOFF_DAYS + 2))
    )
    qs = course_seats_annotate(qs, now=now).filter(confirmed_count__lt=F("minimum"))
    return [c for c in qs.order_by("first_meeting_start", "pk") if now < c.registration_closes_at <= window_end]


def nudges_send(*, now: dt.datetime | None = None) -> list[int]:
    """The low-enrollment nudge: ``EnrollmentOptions.nudge_days`` before its cutoff, a course
    still below its minimum asks its confirmed registrants ("help this class run — N more
    needed", with the course's link; the call list for those without e-mail) and its instructor.
    Once: one message per registration and one per instructor, by their dedupe keys (someone
    who registers later gets theirs on the next run). Returns the ids of the courses nudged.

    Locks: each course row in turn (its status and count are re-read under it).
    """
    now = now or timezone.now()
    nudged: list[int] = []
    for candidate in courses_to_nudge(now=now, nudge_days=EnrollmentOptions.current().nudge_days):
        try:
            with locked_atomic():
                course = seats.courses_lock([candidate.pk])[candidate.pk]
                if course.status != Course.Status.OPEN or course.is_past_cutoff(now):
                    continue
                confirmed = list(
                    Registration.objects.filter(course_id=course.pk, status=S.CONFIRMED)
                    .select_related("order").order_by("pk")
                )
                needed = course.minimum - len(confirmed)
                if needed <= 0:
                    continue
                for registration in confirmed:
                    registration.course = course
                    messages.queue_nudge(registration, needed)
                    call_list.call_list_add(registration, T.NUDGE, needed=needed)
                messages.queue_instructor_nudge(course, needed)
        except Exception:  # one course must not stop the others; the next run tries again
            log.exception("nudges: course %s failed", candidate.pk)
            continue
        nudged.append(course.pk)
    return nudged
