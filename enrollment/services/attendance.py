"""Attendance: whether each confirmed attendee came to one meeting, as marked by staff.

A mark is one ``Attendance`` row per (meeting, registration), written only here. Who marked it
and when (``marked_by``, ``marked_at``) is its audit trail: a mark that is saved again unchanged
keeps its original marker, a changed mark records the new one.

Callers import ``attendance_mark`` and ``AttendanceError`` from this module (the package's
``__init__`` re-exports the seat service only).
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from classes.models import Course, Meeting
from classes.schedule import local
from core.locking import lock_timeout

from ..models import Attendance, Registration
from .errors import EnrollmentError

S = Registration.Status

#: Attendance is taken for courses that take place; not for drafts or cancelled courses.
NO_ATTENDANCE_STATUSES = (Course.Status.DRAFT, Course.Status.CANCELLED)


class AttendanceError(EnrollmentError):
    """The marks cannot be saved (wrong attendees, a meeting on a later day, a cancelled course)."""


@dataclass(frozen=True)
class MarkResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def saved(self) -> int:
        return self.created + self.changed


def attendance_mark(*, meeting: Meeting, marks: dict[int, bool], actor, now: dt.datetime | None = None) -> MarkResult:
    """Record who was present (True) or absent (False) at ``meeting``: ``marks`` maps
    registration ids to presence. New marks are created, changed marks updated (with
    ``marked_by=actor``, ``marked_at=now``), identical marks left as they were. All or nothing.

    Only confirmed registrations of the meeting's course can be marked; any other id raises
    :class:`AttendanceError` and nothing is saved. A meeting on a later (local) day than today,
    or of a draft or cancelled course, cannot be marked.

    Locks: the meeting row (two people saving the same meeting's attendance queue and the second
    re-reads the marks; ``core.locking.Busy`` when the wait runs out).
    """
    now = now or timezone.now()
    wanted = {int(registration_id): bool(present) for registration_id, present in marks.items()}
    with transaction.atomic(), lock_timeout():
        meeting = Meeting.objects.select_for_update(of=("self",)).select_related("course").get(pk=meeting.pk)
        if meeting.course.status in NO_ATTENDANCE_STATUSES:
            raise AttendanceError(f"“{meeting.course}” is {meeting.course.get_status_display().lower()}: "
                                  "no attendance is taken.")
        if local(meeting.starts_at).date() > local(now).date():
            raise AttendanceError(f"The meeting on {meeting} has not happened yet.")
        if not wanted:
            return MarkResult()
        confirmed = set(
            Registration.objects.filter(pk__in=wanted, course_id=meeting.course_id, status=S.CONFIRMED)
            .values_list("pk", flat=True)
        )
        stray = sorted(set(wanted) - confirmed)
        if stray:
            raise AttendanceError(
                "Only confirmed attendees of this class can be marked "
                f"(not registration{'' if len(stray) == 1 else 's'} {', '.join(f'#{pk}' for pk in stray)})."
            )
        existing = {
            a.registration_id: a for a in Attendance.objects.filter(meeting=meeting, registration_id__in=wanted)
        }
        new, changed = [], []
        for registration_id, present in sorted(wanted.items()):
            mark = existing.get(registration_id)
            if mark is None:
                new.append(Attendance(meeting=meeting, registration_id=registration_id, present=present,
                                      marked_by=actor, marked_at=now))
            elif mark.present != present:
                mark.present, mark.marked_by, mark.marked_at = present, actor, now
                changed.append(mark)
        Attendance.objects.bulk_create(new)
        Attendance.objects.bulk_update(changed, ["present", "marked_by", "marked_at"])
    return MarkResult(created=len(new), changed=len(changed), unchanged=len(wanted) - len(new) - len(changed))
