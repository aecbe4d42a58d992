"""The one door to seats: every channel (online checkout, the front desk, waitlist offers,
transfers) takes, confirms and frees seats through the services built on this module's pieces —
``orders`` (holds at checkout and the desk), ``confirmation`` (payment arrived), ``waitlist``
(offers, expiry), ``cancellation`` and ``transfer``; the week-out run uses them too. Here: the
row locks on courses, the seat count, the status change with its audit row, and the rules of an
open course.

Seats taken = confirmed + unexpired holds + unexpired waitlist offers, counted and changed only
inside ``transaction.atomic()`` after ``SELECT … FOR UPDATE`` on the course rows, locked in
ascending id order with a short lock timeout (``core.locking.Busy`` → "busy, please try again").
"""

import datetime as dt
import unicodedata

from classes.models import Course
from classes.schedule import local

from ..models import TRANSITIONS, Registration, RegistrationEvent
from ..selectors import seats_taken_q
from .errors import CourseNotOpen, InvalidTransition, RegistrationClosed

S = Registration.Status

#: Row locking on the courses. Only the race tests' control run switches it off, to show that
#: without it seats are oversold (and so that the race tests can fail).
LOCKING = True


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def attendee_key(*, first_name: str, last_name: str, email: str, phone: str = "") -> str:
    """Who an attendee is, for "never the same attendee twice in a course": their name, as
    registered by the same buyer (e-mail, or phone digits for desk orders without e-mail)."""
    contact = _normal(email) or "".join(ch for ch in phone if ch.isdigit())
    return f"{_normal(first_name)} {_normal(last_name)}|{contact}"[:200]


def courses_lock(course_ids) -> dict[int, Course]:
    """Lock the course rows (ascending id order) and return them. Caller holds a transaction.
    The locks every seat service (and the week-out run, the nudges, course changes) takes first.
    One query: the cutoff needs each course's first meeting, read with the row as a subquery
    (``first_meeting_start``), under the same lock."""
    from django.db.models import OuterRef, Subquery

    from classes.models import Meeting

    first = Meeting.objects.filter(course_id=OuterRef("pk")).order_by("starts_at").values("starts_at")[:1]
    qs = (Course.objects.filter(pk__in=set(course_ids)).select_related("semester")
          .annotate(first_meeting_start=Subquery(first)).order_by("pk"))
    if LOCKING:
        qs = qs.select_for_update(of=("self",))
    return {c.pk: c for c in qs}


def seats_taken(course_id: int, *, now: dt.datetime) -> int:
    return Registration.objects.filter(seats_taken_q(now=now), course_id=course_id).count()


def registration_transition(
    registration: Registration, to: str, *, now: dt.datetime, actor=None, actor_label: str = "system",
    reason: str = "", fields: tuple[str, ...] = (),
) -> None:
    """Change a status by the table, save only what changed, and write the audit row. Call it
    under the locks of the course and the registration (every seat service does)."""
    before = registration.status if registration.pk else ""
    if to not in TRANSITIONS[before]:
        raise InvalidTransition(f"A registration that is {before or 'new'} cannot become {to}.")
    registration.status = to
    if registration.pk:
        registration.save(update_fields=["status", "updated_at", *fields])
    else:
        registration.save()
    RegistrationEvent.objects.create(
        registration=registration, at=now, actor=actor, actor_label=actor_label[:80],
        from_status=before, to_status=to, reason=reason[:300],
    )


def registrations_create(entries, *, now: dt.datetime, actor=None, actor_label: str = "system") -> None:
    """New registrations with their first status, saved together: ``entries`` are
    ``(registration, status, reason)``; each status is checked against the table, the rows are
    inserted in one query and their audit rows in another (``registration_transition`` for a new
    row, in bulk). Call it under the courses' locks."""
    for registration, to, _reason in entries:
        if registration.pk or to not in TRANSITIONS[""]:
            raise InvalidTransition(f"A new registration cannot become {to}.")
        registration.status = to
    Registration.objects.bulk_create([registration for registration, _to, _reason in entries])
    RegistrationEvent.objects.bulk_create([
        RegistrationEvent(registration=registration, at=now, actor=actor, actor_label=actor_label[:80],
                          from_status="", to_status=to, reason=reason[:300])
        for registration, to, reason in entries
    ])


def course_check_open(course: Course, *, now: dt.datetime, index: int | None = None) -> None:
    """Registration rules on the server: the course is open (or running, decided before its
    cutoff), its semester's registration has opened, and its week-out cutoff has not passed."""
    if course.status == Course.Status.CANCELLED:
        raise CourseNotOpen(f"“{course.title}” has been cancelled.", index=index)
    if course.status not in Course.TAKES_REGISTRATIONS:
        raise CourseNotOpen(f"“{course.title}” is not open for registration.", index=index)
    if not course.semester.registration_is_open(now):
        opens = local(course.semester.registration_opens_at)
        raise RegistrationClosed(
            f"Registration for {course.semester.name} opens {opens:%a, %b %-d at %-I:%M %p}.", index=index
        )
    closes = course.registration_closes_at
    if closes is None:
        raise CourseNotOpen(f"“{course.title}” has no meetings scheduled yet.", index=index)
    if now >= closes:
        raise RegistrationClosed(
            f"Registration for “{course.title}” closed on {local(closes):%a, %b %-d}.", index=index
        )


