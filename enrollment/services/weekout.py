"""The week-out run: a week before each class, registration closes and the class is decided.

``course_decide`` is the one place a course runs or is cancelled (ARCHITECTURE §3): the week-out
run calls it for every open course whose cutoff has passed, staff call it before the cutoff to run
a class anyway or to cancel it early. A class staff decided to run before its cutoff keeps taking
registrations until the cutoff; the week-out run then does what the cutoff does for a running
class (reminders, holds and the waitlist closed, the roster) through the same ``course_decide``,
which finds the decision made and completes it (``CourseDecision.completed_at``) exactly once. The decision is a ``CourseDecision`` row, one per course
ever (a unique column), written under the course's row lock together with everything that follows
from it — registrations closed, messages queued, the call list — so a second run, a retry or two
runs at once change nothing more.

Money follows facts (ARCHITECTURE §2): enrollment does not import finance. A cancelled course's
paid registrations are cancelled here; ``refund_due`` then owes their full price, and the entry
point (the ``week_out`` command, the Celery task, the staff action) settles each id in
``decision.settle_ids`` with ``finance.services.refunds_settle`` right after the commit. Finance's
periodic ``refunds_sweep`` settles any the entry point missed (it crashed, Stripe was down).
A registrant owed a refund is told by finance when it settles it (``cancellation_tell`` with
finance's note of how each refund comes back): enrollment cannot know the method.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from classes.models import Course, Meeting
from core.locking import locked_atomic

from .. import messages
from ..models import CallListEntry, CourseDecision, Registration
from ..selectors import course_seats_annotate, refund_due
from . import call_list, seats
from .errors import CourseNotOpen, EnrollmentError

log = logging.getLogger(__name__)

S = Registration.Status
Outcome = CourseDecision.Outcome
T = CallListEntry.Topic

#: Why registrations of a course cancelled by the week-out run are cancelled (the audit trail).
BELOW_MINIMUM = "class cancelled: below its minimum"
CLOSED_RUNS = "registration closed: the class runs"
#: ``Semester.cutoff_days`` is at most 60 (a DB constraint): no course further away is due.
MAX_CUTOFF_DAYS = 60


class DecisionNotDue(EnrollmentError):
    """The week-out run decides a course only once its cutoff has passed (staff may force it)."""


class DecisionTooLate(EnrollmentError):
    """The week-out run reached a course below its minimum only after its first meeting began
    (the run was down, or the data was loaded late): a class that may have met is not cancelled
    behind anyone's back — staff decide it (``force``)."""


@dataclass
class DecisionLine:
    """One course of a week-out run: what was (or, in a dry run, would be) decided."""

    course_id: int
    course: str
    confirmed: int
    minimum: int
    outcome: str = ""
    #: Refunds policy owes (the full price of each paid registration); the entry point may
    #: replace them with what finance actually refunded (or, in a dry run, would refund).
    refund_total: Decimal = Decimal("0.00")
    refund_count: int = 0
    #: Registrations the entry point settles with finance (``refunds_settle``).
    settle_ids: list[int] = field(default_factory=list)
    #: False in a dry run, and when someone else decided the course meanwhile.
    decided: bool = False
    dry_run: bool = False
    error: str = ""
    refund_reason: str = ""
    #: A class decided earlier to run (staff, before its cutoff) whose cutoff work was done now
    #: (or, in a dry run, would be): it is not decided again.
    closed: bool = False
    #: Not decided: below its minimum, and its first meeting has begun (``DecisionTooLate``).
    late: bool = False

    @property
    def runs(self) -> bool:
        return self.outcome == Outcome.RUNNING

    def text(self) -> str:
        if self.late:
            return (f"LATE {self.course} — confirmed {self.confirmed} / minimum {self.minimum}, and its first "
                    "meeting has begun: not cancelled automatically; decide it on the week-out page")
        if self.error:
            return f"FAILED {self.course} — {self.error}"
        if self.dry_run and self.closed:
            return f"CLOSE {self.course} — decided earlier: runs (registration closes, reminders to send)"
        if self.closed:
            return f"CLOSED {self.course} — decided earlier: runs (registration closed, reminders sent)"
        if not self.dry_run and not self.decided:
            return f"ALREADY DECIDED {self.course} — {'runs' if self.runs else 'cancelled'} (nothing more to do)"
        verb = "DECIDE" if self.dry_run else "DECIDED"
        line = f"{verb} {self.course} — confirmed {self.confirmed} / minimum {self.minimum} → "
        if self.runs:
            return line + "runs"
        refund = f"${self.refund_total:,.2f} to {self.refund_count} registrant{'s' if self.refund_count != 1 else ''}"
        return line + f"cancelled (refunds: {refund})"


def _actor_label(actor) -> str:
    return actor.get_username() if actor is not None else "week-out run"


def cancellation_tell(registration: Registration, *, refunds=None, was: str = "") -> None:
    """Tell a registrant of a cancelled course: the e-mail, or the call list without one, with
    the staff's reason when staff cancelled it. ``refunds``: how each refund comes back, a
    ``finance.refund_words`` note. A registration with a refund due is told by finance once it
    has settled the refund (``finance.services.refunds_settle``): only finance knows the money.
    Once each (the outbox's dedupe key; one call-list entry per topic)."""
    messages.queue_course_cancelled(registration, refunds=refunds)
    _too_few, staff_reason = messages.cancellation_cause(registration.course)
    script = (call_list.call_script_staff_cancel(registration, was=was, reason=staff_reason, refunds=refunds)
              if staff_reason else "")
    call_list.call_list_add(registration, T.CANCELLATION, script=script, refunds=refunds)


def _close_cancelled(course: Course, *, now, actor, label: str, why: str) -> list[int]:
    """Under the course lock: cancel every active registration, tell each (or call them) and
    the instructor. Returns the ids of those whose refund finance settles."""
    settle: list[int] = []
    qs = Registration.objects.filter(course_id=course.pk, status__in=Registration.ACTIVE).select_related("order")
    qs = qs.order_by("pk")
    for registration in qs.select_for_update(of=("self",)) if seats.LOCKING else qs:
        registration.course = course
        was = registration.status
        registration.cancelled_at = now
        seats.registration_transition(registration, S.CANCELLED, now=now, actor=actor, actor_label=label, reason=why,
                                      fields=("cancelled_at",))
        if refund_due(registration) > 0:
            settle.append(registration.pk)  # finance settles it and tells them how it comes back
        else:
            cancellation_tell(registration, was=was)
    messages.queue_instructor_cancelled(course)
    return settle


def _close_running(course: Course, *, now, actor, label: str) -> None:
    """Under the course lock: remind every confirmed registrant (or call them), close the holds,
    offers and waitlist (telling those offered or waiting), and send the instructor the roster.
    A course decided after its first meeting began gets no reminder and no roster: they would be
    about a meeting in the past ("starts Friday, November 20" on December 3)."""
    started = course.first_start is not None and course.first_start <= now
    qs = Registration.objects.filter(course_id=course.pk, status__in=Registration.ACTIVE).select_related("order")
    qs = qs.order_by("pk")
    reminded: list[Registration] = []
    for registration in qs.select_for_update(of=("self",)) if seats.LOCKING else qs:
        registration.course = course
        if registration.status == S.CONFIRMED:
            if not started:
                reminded.append(registration)  # e-mailed below, all at once
                call_list.call_list_add(registration, T.REMINDER)
        elif registration.status in (S.HELD, S.OFFERED):
            was = registration.status
            seats.registration_transition(registration, S.EXPIRED, now=now, actor=actor, actor_label=label,
                                          reason=CLOSED_RUNS)
            if was == S.OFFERED:
                messages.queue_offer_expired(registration)
        else:  # waitlisted: no seat will open now
            registration.cancelled_at = now
            seats.registration_transition(registration, S.CANCELLED, now=now, actor=actor, actor_label=label,
                                          reason=f"{CLOSED_RUNS}; the waitlist is closed", fields=("cancelled_at",))
            messages.queue_cancelled(registration, was=S.WAITLISTED)
            call_list.call_list_add(registration, T.CANCELLATION, script=(
                f"{call_list.call_greeting(registration)} Registration has closed and the class is full, so "
                f"{registration.attendee_name}'s place on its waitlist is cancelled (the class itself runs). "
                "Nothing was charged. Invite them to look at our other classes."))
    if not started:
        messages.queue_reminders(reminded)
        messages.queue_instructor_roster(course)


def course_decide(
    *, course_id: int, now: dt.datetime | None = None, actor=None, force: str | None = None, reason: str = "",
) -> CourseDecision:
    """Decide an open course: it runs (confirmed registrations ≥ its minimum, or staff force
    ``"run"``) or it is cancelled (fewer, or staff force ``"cancel"``). Returns the decision.

    Without ``force`` the course's cutoff must have passed (``DecisionNotDue`` otherwise), and a
    course below its minimum whose first meeting has begun is left to staff (``DecisionTooLate``);
    a course decided to run after its first meeting began sends no reminder or roster. With ``force``
    (staff, any time while the course is open) a ``reason`` is required, and both are recorded.
    A course already decided returns its decision and nothing changes (``decision.created`` is
    False) — but for one staff decided to run before its cutoff: registration stays open (the
    course is running) and nothing follows at once; called again once the cutoff has passed (the
    week-out run does), it does what follows from running now, once (``decision.closed`` is True,
    ``completed_at`` is set). In the same transaction: the course's status; for a cancelled course every active
    registration cancelled (audit rows with ``actor``), each registrant told (or put on the call
    list) and the instructor told; for a running course a reminder to each confirmed registrant
    (or the call list), holds and offers expired, the waitlist cancelled and told, the roster to
    the instructor. A cancelled course's meetings no longer book their room.

    Money: ``decision.settle_ids`` are the cancelled registrations that policy refunds; the
    caller settles them with ``finance.services.refunds_settle`` after this returns.

    Locks: the course row (short lock timeout: ``core.locking.Busy``), then its registrations.
    """
    now = now or timezone.now()
    if force not in (None, "run", "cancel"):
        raise ValueError(f"force must be 'run', 'cancel' or None, not {force!r}")
    reason = " ".join((reason or "").split())
    if force and not reason:
        raise EnrollmentError("Give a reason for deciding this class before the week-out run.", field="reason")
    label = _actor_label(actor)
    with locked_atomic():
        course = seats.courses_lock([course_id]).get(course_id)
        if course is None:
            raise CourseNotOpen("That class does not exist.")
        existing = CourseDecision.objects.filter(course_id=course_id).first()
        if existing is not None:
            if not _cutoff_work_due(existing, course, now):
                return _decided(existing, created=False)
            _close_running(course, now=now, actor=actor, label=label)
            existing.completed_at = now
            existing.save(update_fields=["completed_at"])
            log.info("course %s: registration closed at the cutoff (decided earlier to run)", course_id)
            return _decided(existing, created=False, closed=True)
        if course.status != Course.Status.OPEN:
            raise CourseNotOpen(f"“{course.title}” is {course.get_status_display().lower()}: only an open class "
                                "can be decided.")
        if force is None and not course.is_past_cutoff(now):
            raise DecisionNotDue(f"Registration for “{course.title}” has not closed yet.")
        confirmed = Registration.objects.filter(course_id=course_id, status=S.CONFIRMED).count()
        runs = force == "run" or (force is None and confirmed >= course.minimum)
        if force is None and not runs and course.first_start is not None and course.first_start <= now:
            raise DecisionTooLate(f"“{course.title}” is below its minimum and its first meeting has begun: "
                                  "decide it by hand.")
        try:
            with transaction.atomic():
                decision = CourseDecision.objects.create(
                    course=course, outcome=Outcome.RUNNING if runs else Outcome.CANCELLED, decided_at=now,
                    confirmed_count=confirmed, minimum=course.minimum, automatic=force is None,
                    decided_by=actor, reason=(reason or f"week-out run: {confirmed} confirmed, minimum "
                                                        f"{course.minimum}")[:300],
                )
        except IntegrityError:  # decided meanwhile (only possible with the row lock switched off)
            return _decided(CourseDecision.objects.get(course_id=course_id), created=False)
        course.status = Course.Status.RUNNING if runs else Course.Status.CANCELLED
        course.save(update_fields=["status", "updated_at"])
        settle: list[int] = []
        if runs and not course.is_past_cutoff(now):
            pass  # run anyway before the cutoff: registration stays open; the cutoff's work comes then
        elif runs:
            _close_running(course, now=now, actor=actor, label=label)
        else:
            why = f"class cancelled: {reason}" if force else BELOW_MINIMUM
            settle = _close_cancelled(course, now=now, actor=actor, label=label, why=why[:300])
        if not runs or course.is_past_cutoff(now):
            decision.completed_at = now
            decision.save(update_fields=["completed_at"])
    log.info("course %s decided: %s (%s confirmed, minimum %s, %s)", course_id, decision.outcome, confirmed,
             course.minimum, "automatic" if force is None else "staff")
    return _decided(decision, created=True, settle_ids=settle)


def _cutoff_work_due(decision: CourseDecision, course: Course, now: dt.datetime) -> bool:
    """A class decided to run before its cutoff, whose cutoff has now passed and whose cutoff
    work (reminders, holds and waitlist closed, the roster) is not done yet."""
    return (decision.outcome == Outcome.RUNNING and decision.completed_at is None
            and course.status == Course.Status.RUNNING and course.is_past_cutoff(now))


def _decided(decision: CourseDecision, *, created: bool, settle_ids: list[int] | None = None,
             closed: bool = False) -> CourseDecision:
    decision.created = created
    decision.settle_ids = list(settle_ids or [])
    decision.closed = closed
    return decision


def refund_reason(decision: CourseDecision) -> str:
    """The reason written on the refunds of a cancelled course (for the entry points)."""
    if decision.automatic:
        return "Class cancelled at the week-out cutoff (below its minimum): full refund."
    return f"Class cancelled by the library ({decision.reason}): full refund."[:300]


def first_start() -> Subquery:
    first = Meeting.objects.filter(course=OuterRef("pk")).order_by("starts_at").values("starts_at")[:1]
    return Subquery(first)


def courses_due(*, now: dt.datetime) -> list[Course]:
    """Open courses whose week-out cutoff (local midnight ``semester.cutoff_days`` before the
    first meeting's day) has passed, and courses staff decided earlier to run whose cutoff has
    passed and whose cutoff work is not done; soonest first; one query (with confirmed counts)."""
    horizon = now + dt.timedelta(days=MAX_CUTOFF_DAYS + 2)
    run_early = Q(status=Course.Status.RUNNING, decision__outcome=Outcome.RUNNING, decision__completed_at__isnull=True)
    qs = (
        Course.objects.filter(Q(status=Course.Status.OPEN) | run_early).select_related("semester")
        .annotate(first_meeting_start=first_start())
        .filter(first_meeting_start__isnull=False, first_meeting_start__lt=horizon)
    )
    qs = course_seats_annotate(qs, now=now).order_by("first_meeting_start", "pk")
    return [course for course in qs if course.is_past_cutoff(now)]


def _preview(courses: list[Course], *, now) -> list[DecisionLine]:
    """What deciding ``courses`` now would do (reads only)."""
    refunds: dict[int, list[tuple[int, Decimal]]] = {}
    rows = Registration.objects.filter(course__in=courses, status=S.CONFIRMED, price__gt=0).order_by("pk")
    for course_id, pk, price in rows.values_list("course_id", "pk", "price"):
        refunds.setdefault(course_id, []).append((pk, price))
    lines = []
    for course in courses:
        closes = course.status == Course.Status.RUNNING  # decided earlier to run: only the cutoff's work
        runs = closes or course.confirmed_count >= course.minimum
        line = DecisionLine(course_id=course.pk, course=str(course), confirmed=course.confirmed_count,
                            minimum=course.minimum, outcome=Outcome.RUNNING if runs else Outcome.CANCELLED, dry_run=True,
                            closed=closes)
        if not runs and course.first_meeting_start <= now:
            line.late = True  # left to staff (``DecisionTooLate``)
        elif not runs:
            line.settle_ids = [pk for pk, _ in refunds.get(course.pk, [])]
            line.refund_count = len(line.settle_ids)
            line.refund_total = sum((price for _, price in refunds.get(course.pk, [])), Decimal("0.00"))
        lines.append(line)
    return lines


def week_out_run(*, now: dt.datetime | None = None, dry_run: bool = False) -> list[DecisionLine]:
    """Decide every open course whose cutoff has passed (``course_decide``), one line each.

    A dry run computes what would be decided and writes nothing. A course that cannot be decided
    now (busy, an error) is logged and reported on its line; the next run tries it again. Safe to
    run twice at once: each course is decided once, under its row lock.
    """
    now = now or timezone.now()
    courses = courses_due(now=now)
    if dry_run:
        return _preview(courses, now=now)
    lines = []
    for course in courses:
        line = DecisionLine(course_id=course.pk, course=str(course), confirmed=course.confirmed_count,
                            minimum=course.minimum)
        try:
            decision = course_decide(course_id=course.pk, now=now)
        except DecisionTooLate:
            line.late = True
            lines.append(line)
            continue
        except Exception as exc:  # one course must not stop the others; the next run retries it
            log.exception("week-out: course %s could not be decided", course.pk)
            line.error = f"{type(exc).__name__}: {exc}"
            lines.append(line)
            continue
        line.confirmed, line.minimum, line.outcome = decision.confirmed_count, decision.minimum, decision.outcome
        line.decided, line.settle_ids, line.closed = decision.created, decision.settle_ids, decision.closed
        line.refund_reason = refund_reason(decision)
        if decision.settle_ids:
            total = Registration.objects.filter(pk__in=decision.settle_ids).aggregate(total=Sum("price"))["total"]
            line.refund_total, line.refund_count = total, len(decision.settle_ids)
        lines.append(line)
    return lines
