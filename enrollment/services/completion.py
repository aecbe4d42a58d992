"""A course completes: ``running → completed`` once its last meeting has ended.

The course's last state change (ARCHITECTURE §3): what comes after a class was held — its
evaluations, its instructor's pay — hangs on ``completed``. ``courses_complete`` is called by the
periodic job (``enrollment.courses_complete``) and by ``manage.py week_out`` after the decisions,
so both use this one function. Each course is completed under its row lock, re-read there, so two
runs at once complete it once. A cancelled, draft or open course never completes: only a course
the week-out run (or staff) decided to run.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import timezone

from classes.models import Course
from core.locking import Busy, locked_atomic

log = logging.getLogger(__name__)


@dataclass
class CompletionLine:
    """One course the run completed (or, in a dry run, would complete)."""

    course_id: int
    course: str
    last_ends_at: dt.datetime
    completed: bool  # False: a dry run, or completed meanwhile by another run

    def text(self) -> str:
        when = timezone.localtime(self.last_ends_at).strftime("%Y-%m-%d %H:%M")
        verb = "COMPLETED" if self.completed else "COMPLETE"
        return f"{verb} {self.course}: its last meeting ended {when}."


def courses_due_completion(*, now: dt.datetime) -> list[Course]:
    """Running courses with at least one meeting, all of which have ended by ``now``, each with
    ``last_ends_at``; oldest first. One query."""
    return list(
        Course.objects.filter(status=Course.Status.RUNNING)
        .annotate(last_ends_at=Max("meetings__ends_at"), meeting_count=Count("meetings"))
        .filter(meeting_count__gt=0, last_ends_at__lte=now)
        .order_by("last_ends_at", "pk")
    )


def course_complete(*, course_id: int, now: dt.datetime | None = None) -> bool:
    """Mark the course completed if it is running and its last meeting has ended by ``now``.
    Returns whether this call completed it (False: not due, or already completed).

    Locks: the course row (short lock timeout: ``core.locking.Busy``)."""
    now = now or timezone.now()
    with locked_atomic():
        course = Course.objects.select_for_update().filter(pk=course_id).first()
        if course is None or course.status != Course.Status.RUNNING:
            return False
        last_end = course.meetings.aggregate(last=Max("ends_at"))["last"]
        if last_end is None or last_end > now:
            return False
        course.status = Course.Status.COMPLETED
        course.save(update_fields=["status", "updated_at"])
    log.info("course %s completed (last meeting ended)", course_id)
    return True


def courses_complete(*, now: dt.datetime | None = None, dry_run: bool = False) -> list[CompletionLine]:
    """Complete every running course whose last meeting has ended (``course_complete`` each), one
    line per course. A dry run lists them and changes nothing. Idempotent: a course already
    completed is left alone; one whose row is busy is left to the next run."""
    now = now or timezone.now()
    lines = []
    for course in courses_due_completion(now=now):
        try:
            completed = False if dry_run else course_complete(course_id=course.pk, now=now)
        except Busy:  # someone holds the course row (a registration, a refund): the next run completes it
            log.warning("course %s: busy, completion left to the next run", course.pk)
            continue
        lines.append(CompletionLine(course_id=course.pk, course=str(course), last_ends_at=course.last_ends_at,
                                    completed=completed))
    return lines
