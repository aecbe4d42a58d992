"""Telling people when the library changes a class they registered for.

The back office saves a course and its meetings, diffs what patrons see (``classes.changes``) and
calls ``course_change_notify`` in the same transaction. Messages go through the outbox with a
dedupe key per household and per change (the course's revision), so one change is never told
twice. ``course_change_audience_preview`` is the same reckoning without writing, for the page
where staff confirm the change first.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from classes.changes import CourseChanges
from classes.models import Course, Meeting
from classes.services import course_revision_bump
from core.locking import locked_atomic

from ..messages import common as message_common
from ..messages import course_changes as change_messages
from ..messages.course_changes import Household
from ..models import CallListEntry, Registration
from ..selectors import course_change_audience
from . import seats

log = logging.getLogger(__name__)

#: A changed course in these states tells its registrants (a draft has none; a cancelled or
#: completed course has nobody left to tell).
TOLD_STATUSES = (Course.Status.OPEN, Course.Status.RUNNING)


@dataclass
class ChangeAudience:
    """Who hears about a change: households by e-mail, registrations for the call list, and
    whether the instructor is told (when anyone is)."""

    households: list[Household] = field(default_factory=list)
    calls: list[Registration] = field(default_factory=list)

    @property
    def emailed_count(self) -> int:
        return sum(len(h.registrations) for h in self.households)

    @property
    def count(self) -> int:
        return self.emailed_count + len(self.calls)

    @property
    def registrations(self) -> list[Registration]:
        return sorted([r for h in self.households for r in h.registrations] + self.calls,
                      key=lambda r: (r.created_at, r.pk))


@dataclass
class ChangeNotice:
    """What ``course_change_notify`` did."""

    revision: int
    audience: ChangeAudience = field(default_factory=ChangeAudience)
    instructor_told: bool = False


def course_for_messages(course_id: int) -> Course:
    """The course with what its messages show (semester, venue, instructor, meetings and their venues)."""
    meetings = Meeting.objects.select_related("venue").order_by("starts_at")
    return (Course.objects.select_related("semester", "venue", "instructor")
            .prefetch_related(Prefetch("meetings", queryset=meetings)).get(pk=course_id))


def course_change_audience_preview(course_id: int, *, now: dt.datetime | None = None) -> ChangeAudience:
    """Who would be told if the course changed now (nobody when it is not open or running). Reads only."""
    now = now or timezone.now()
    status = Course.objects.filter(pk=course_id).values_list("status", flat=True).first()
    if status not in TOLD_STATUSES:
        return ChangeAudience()
    households, calls = change_messages.households(course_change_audience(course_id, now=now))
    return ChangeAudience(households=households, calls=calls)


def course_change_notify(*, course_id: int, changes: CourseChanges, actor=None,
                         now: dt.datetime | None = None) -> ChangeNotice:
    """Tell everyone a change to the course concerns, once, in one transaction.

    Does nothing for a change patrons would not notice (``changes.tells_patrons`` is false: the
    description, the costs, the capacity alone). Otherwise the course's ``revision`` goes up by
    one (the calendar's SEQUENCE), and, when the course is open or running, each household of its
    confirmed registrations, unexpired holds and offers and its waitlist gets one "your class
    changed" e-mail with the new details, their own price (never changed by a fee change) and the
    updated calendar file; registrants without e-mail go on the call list (topic ``change``, one
    entry per registration per revision); the instructor is told when anyone is.

    Locks the course row (short lock timeout: ``core.locking.Busy``), so nobody takes a seat
    between the count and the messages. Call it inside the transaction that saved the change.
    """
    now = now or timezone.now()
    if not changes.tells_patrons:
        return ChangeNotice(revision=Course.objects.values_list("revision", flat=True).get(pk=course_id))
    with locked_atomic():
        seats.courses_lock([course_id])
        revision = course_revision_bump(course_id=course_id)
        course = course_for_messages(course_id)
        if course.status not in TOLD_STATUSES:
            return ChangeNotice(revision=revision)
        households, calls = change_messages.households(course_change_audience(course_id, now=now))
        audience = ChangeAudience(households=households, calls=calls)
        if households:
            attachment = message_common.ics_attachment(course, removed=changes.removed)
        for household in households:
            for registration in household.registrations:
                registration.course = course
            change_messages.queue_course_changed(course, changes, household, revision=revision,
                                                 attachment=attachment)
        for registration in calls:
            registration.course = course
            CallListEntry.objects.get_or_create(
                registration=registration, topic=CallListEntry.Topic.CHANGE, revision=revision,
                defaults={"script": change_messages.change_call_script(registration, changes)},
            )
        told = False
        if audience.count and course.instructor.email:
            told = change_messages.queue_instructor_course_changed(
                course, changes, revision=revision, emailed=audience.emailed_count, called=len(calls))
    log.info("course %s changed (revision %s) by user %s: %s e-mailed, %s to call", course_id, revision,
             getattr(actor, "pk", None), audience.emailed_count, len(calls))
    return ChangeNotice(revision=revision, audience=audience, instructor_told=told)
