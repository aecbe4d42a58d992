"""The one door to seats: every channel (online checkout, the front desk, waitlist offers,
transfers) takes, confirms and frees seats through these functions.

Seats taken = confirmed + unexpired holds + unexpired waitlist offers, counted and changed only
inside ``transaction.atomic()`` after ``SELECT … FOR UPDATE`` on the course rows, locked in
ascending id order with a short lock timeout (``core.locking.Busy`` → "busy, please try again").
"""

import datetime as dt
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from classes.models import Course
from classes.schedule import local
from core.locking import locked_atomic

from .. import messages
from ..models import TRANSITIONS, EnrollmentOptions, Order, Registration, RegistrationEvent
from ..selectors import refund_due, seats_taken_q
from .errors import (
    AgeOutOfRange,
    AlreadyRegistered,
    CourseFull,
    CourseNotOpen,
    DuplicateCheckout,
    EnrollmentError,
    InvalidTransition,
    RegistrationClosed,
)

S = Registration.Status

#: Row locking on the courses. Only the race tests' control run switches it off, to show that
#: without it seats are oversold (and so that the race tests can fail).
LOCKING = True


@dataclass(frozen=True)
class BuyerInput:
    first_name: str
    last_name: str
    email: str
    phone: str = ""
    street_address: str = ""
    city_state_zip: str = ""
    mail_catalog: bool = False
    referral_id: int | None = None
    #: "Add a gift to Pass the Buck" at checkout: charged with the seats (finance books it).
    gift_amount: Decimal = Decimal("0.00")
    gift_anonymous: bool = False


@dataclass(frozen=True)
class AttendeeInput:
    course_id: int
    first_name: str
    last_name: str
    age: int | None = None
    relationship: str = Registration.Relationship.SELF
    #: The attendee asks for a Pass the Buck scholarship (finance awards it: ``finance.services.scholarships``).
    scholarship: bool = False


@dataclass
class PlaceResult:
    order: Order
    held: list[Registration] = field(default_factory=list)
    confirmed: list[Registration] = field(default_factory=list)
    waitlisted: list[Registration] = field(default_factory=list)
    #: Every registration made, in the order of the attendees given (their ``index``).
    registrations: list[Registration] = field(default_factory=list)

    @property
    def amount_due(self) -> Decimal:
        """The full price of the seats held (a scholarship pays part of it: finance knows)."""
        return sum((r.price for r in self.held), Decimal("0.00"))


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def attendee_key(*, first_name: str, last_name: str, email: str, phone: str = "") -> str:
    """Who an attendee is, for "never the same attendee twice in a course": their name, as
    registered by the same buyer (e-mail, or phone digits for desk orders without e-mail)."""
    contact = _normal(email) or "".join(ch for ch in phone if ch.isdigit())
    return f"{_normal(first_name)} {_normal(last_name)}|{contact}"[:200]


def _lock_courses(course_ids) -> dict[int, Course]:
    """Lock the course rows (ascending id order) and return them. Caller holds a transaction."""
    qs = Course.objects.filter(pk__in=set(course_ids)).select_related("semester").order_by("pk")
    if LOCKING:
        qs = qs.select_for_update(of=("self",))
    courses = {c.pk: c for c in qs}
    # The cutoff needs each course's first meeting: one query for all locked courses.
    from classes.models import Meeting

    by_course: dict[int, list] = {}
    for meeting in Meeting.objects.filter(course_id__in=courses).order_by("starts_at"):
        by_course.setdefault(meeting.course_id, []).append(meeting)
    for pk, course in courses.items():
        course.first_meeting_start = by_course[pk][0].starts_at if by_course.get(pk) else None
    return courses


def seats_taken(course_id: int, *, now: dt.datetime) -> int:
    return Registration.objects.filter(seats_taken_q(now=now), course_id=course_id).count()


def _transition(
    registration: Registration, to: str, *, now: dt.datetime, actor=None, actor_label: str = "system",
    reason: str = "", fields: tuple[str, ...] = (),
) -> None:
    """Change a status by the table, save only what changed, and write the audit row."""
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


def _check_age(course: Course, age: int | None, index: int) -> None:
    if course.audience not in (Course.Audience.KIDS, Course.Audience.TEENS):
        return
    if age is None:
        raise AgeOutOfRange(f"Enter the attendee's age for “{course.title}”.", index=index)
    if (course.age_min is not None and age < course.age_min) or (course.age_max is not None and age > course.age_max):
        raise AgeOutOfRange(f"“{course.title}” is for {course.age_range_label.lower()}.", index=index)


def order_place(
    *, buyer: BuyerInput, attendees: list[AttendeeInput], now: dt.datetime | None = None,
    join_waitlist: bool | Collection[int] = False, channel: str = Order.Channel.ONLINE, actor=None, actor_label: str = "patron",
    checkout_key: str | None = None, confirm_now: bool = False, override_reason: str = "",
    hold_until: dt.datetime | None = None, on_placed=None,
) -> PlaceResult:
    """Create an order and hold a seat for every attendee (free seats are confirmed at once).

    The front desk passes ``confirm_now`` (seats are confirmed at once; the payment taken at the
    desk, maybe partial, is recorded by finance) and, to register after the cutoff or over
    capacity, an ``override_reason`` that is written to the audit trail.

    All or nothing: a rule broken for any attendee raises an ``EnrollmentError`` (with the
    attendee's ``index``) and nothing is written. A full course raises ``CourseFull`` unless
    ``join_waitlist`` (True for every course, or the ids of the courses whose waitlist the buyer
    agreed to join), which puts the attendee on its waitlist instead. While a course has a
    waitlist, its freed seats go to the people in line (as offers), not to new buyers.

    ``checkout_key`` (the checkout form's one-time key) makes a replayed or double-clicked
    submission raise ``DuplicateCheckout`` with the order the first one placed.

    ``hold_until`` holds the seats longer than the checkout hold (a scholarship-waitlist offer:
    the patron is e-mailed and has as long as a waitlist offer); it is still capped at the cutoff.

    ``on_placed(result)`` runs in the transaction once every seat is placed and before any
    message is queued (finance awards the scholarships asked for there, so the confirmation
    shows the price the patron pays); what it raises undoes the whole order.

    Locks: the courses' rows, ascending id order, short lock timeout (``core.locking.Busy``).
    """
    now = now or timezone.now()
    if not attendees:
        raise EnrollmentError("Choose at least one class.")
    options = EnrollmentOptions.current()
    keys = [
        attendee_key(first_name=a.first_name, last_name=a.last_name, email=buyer.email, phone=buyer.phone)
        for a in attendees
    ]
    if checkout_key:
        placed = Order.objects.filter(checkout_key=checkout_key).values_list("token", flat=True).first()
        if placed:
            raise DuplicateCheckout("This checkout was already placed.", order_token=placed)
    with locked_atomic():
        courses = _lock_courses(a.course_id for a in attendees)
        freed = _expire_stale(courses, now=now)
        seen: set[tuple[int, str]] = set()
        for i, (a, key) in enumerate(zip(attendees, keys, strict=True)):
            course = courses.get(a.course_id)
            if course is None:
                raise CourseNotOpen("That class is not in the catalog.", index=i)
            if override_reason:
                if course.status not in (Course.Status.OPEN, Course.Status.RUNNING):
                    raise CourseNotOpen(f"“{course.title}” is {course.get_status_display().lower()}.", index=i)
            else:
                course_check_open(course, now=now, index=i)
            _check_age(course, a.age, i)
            if (a.course_id, key) in seen:
                raise AlreadyRegistered(f"{a.first_name} is listed twice for “{course.title}”.", index=i)
            seen.add((a.course_id, key))
        existing = set(
            Registration.objects.filter(
                status__in=Registration.ACTIVE, course_id__in=courses, attendee_key__in=keys
            ).values_list("course_id", "attendee_key")
        )
        for i, (a, key) in enumerate(zip(attendees, keys, strict=True)):
            if (a.course_id, key) in existing:
                raise AlreadyRegistered(
                    f"{a.first_name} {a.last_name} is already registered for “{courses[a.course_id].title}”.", index=i
                )

        try:
            with transaction.atomic():
                order = Order.objects.create(
                    first_name=buyer.first_name, last_name=buyer.last_name, email=buyer.email, phone=buyer.phone,
                    street_address=buyer.street_address, city_state_zip=buyer.city_state_zip,
                    mail_catalog=buyer.mail_catalog, referral_id=buyer.referral_id, channel=channel,
                    gift_amount=buyer.gift_amount, gift_anonymous=buyer.gift_anonymous,
                    checkout_key=checkout_key or None,
                )
        except IntegrityError:  # the same checkout, submitted twice at once: the other one won
            placed = Order.objects.filter(checkout_key=checkout_key).values_list("token", flat=True).first()
            raise DuplicateCheckout("This checkout was already placed.", order_token=placed) from None
        result = PlaceResult(order=order)
        taken = {pk: seats_taken(pk, now=now) for pk in courses}
        in_line = set(
            Registration.objects.filter(course_id__in=courses, status=S.WAITLISTED).values_list("course_id", flat=True)
        )
        for i, (a, key) in enumerate(zip(attendees, keys, strict=True)):
            course = courses[a.course_id]
            registration = Registration(
                order=order, course=course, attendee_first_name=a.first_name, attendee_last_name=a.last_name,
                attendee_age=a.age, relationship=a.relationship, attendee_key=key, price=course.fee,
                scholarship_requested=bool(a.scholarship) and course.fee > 0,
            )
            result.registrations.append(registration)
            has_seat = taken[course.pk] < course.capacity and course.pk not in in_line
            if has_seat or override_reason:
                taken[course.pk] += 1
                if confirm_now:
                    registration.confirmed_at = now
                    why = "front desk" + (f"; override: {override_reason}" if override_reason else "")
                    _transition(registration, S.CONFIRMED, now=now, actor=actor, actor_label=actor_label, reason=why)
                    result.confirmed.append(registration)
                elif course.fee > 0:
                    # A hold never outlives the cutoff: a payment after it would land on a course
                    # the week-out run may already have decided.
                    hold_end = hold_until or now + dt.timedelta(minutes=options.hold_minutes)
                    closes = course.registration_closes_at
                    registration.expires_at = min(hold_end, closes) if closes and not override_reason else hold_end
                    _transition(registration, S.HELD, now=now, actor=actor, actor_label=actor_label, reason="checkout")
                    result.held.append(registration)
                else:
                    registration.confirmed_at = now
                    _transition(registration, S.CONFIRMED, now=now, actor=actor, actor_label=actor_label,
                                reason="free class")
                    result.confirmed.append(registration)
            elif join_waitlist is True or (not isinstance(join_waitlist, bool) and course.pk in join_waitlist):
                _transition(registration, S.WAITLISTED, now=now, actor=actor, actor_label=actor_label,
                            reason="course full")
                result.waitlisted.append(registration)
            else:
                raise CourseFull(f"“{course.title}” is full. You can join its waitlist.", index=i)
        if on_placed is not None:
            on_placed(result)
        if result.confirmed:
            messages.queue_confirmation(order, result.confirmed)
        for registration in result.waitlisted:
            messages.queue_waitlist_joined(registration)
        for course_id in sorted(freed):
            waitlist_offer_next(course_id=course_id, now=now)
    return result


def _expire_stale(courses: dict[int, Course], *, now: dt.datetime) -> set[int]:
    """Under the courses' locks: release their holds and offers that ran out but that the
    periodic job has not released yet (so the same attendee can try again at once). Returns the
    ids of courses whose seats were freed (their waitlist is offered the seats)."""
    qs = Registration.objects.filter(course_id__in=courses, status__in=[S.HELD, S.OFFERED], expires_at__lte=now)
    qs = qs.select_related("order")
    freed: set[int] = set()
    for registration in qs.select_for_update(of=("self",)) if LOCKING else qs:
        registration.course = courses[registration.course_id]
        was_offer = registration.status == S.OFFERED
        _transition(registration, S.EXPIRED, now=now, reason="waitlist offer ran out" if was_offer else "hold ran out")
        if was_offer:
            messages.queue_offer_expired(registration)
        freed.add(registration.course_id)
    return freed


def registrations_confirm_paid(
    *, registration_ids: list[int], now: dt.datetime | None = None, actor=None, actor_label: str = "system",
    reason: str = "paid",
) -> tuple[list[Registration], list[Registration]]:
    """Confirm registrations whose payment has arrived. Returns (confirmed, lost).

    Inside its hold (or offer) a registration is confirmed with no new capacity check. After it
    ran out, it is confirmed only if a seat is still free; otherwise it is *lost* (the caller
    refunds it). Already-confirmed registrations are left alone, so calling this twice is safe.
    Call it inside the caller's transaction. Locks: the courses' rows, then the registrations.
    """
    now = now or timezone.now()
    confirmed: list[Registration] = []
    lost: list[Registration] = []
    with locked_atomic():
        rows = list(Registration.objects.filter(pk__in=registration_ids).order_by("pk"))
        courses = _lock_courses(r.course_id for r in rows)
        qs = Registration.objects.filter(pk__in=registration_ids).select_related("order").order_by("pk")
        rows = list(qs.select_for_update(of=("self",)) if LOCKING else qs)
        for registration in rows:
            course = registration.course = courses[registration.course_id]
            if registration.status == S.CONFIRMED:
                continue
            course_open = course.takes_registrations(now)
            in_time = course_open and registration.status in (S.HELD, S.OFFERED) and registration.expires_at > now
            # After its hold ran out, a registration gets a seat only if one is free, nobody is
            # waiting in line for it, the attendee has not registered again meanwhile, and its
            # scholarship (if any) has not gone back to the fund (read under the row's lock;
            # finance locks the registration before returning an award).
            late_ok = (
                course_open
                # its Pass the Buck award already went back to the fund: the seat is not paid for
                and registration.fund_returned == 0
                and seats_taken(course.pk, now=now) < course.capacity
                and not Registration.objects.filter(course_id=course.pk, status=S.WAITLISTED).exists()
                and not Registration.objects.filter(
                    course_id=course.pk, attendee_key=registration.attendee_key, status__in=Registration.ACTIVE
                ).exclude(pk=registration.pk).exists()
            )
            if registration.status in (S.HELD, S.OFFERED, S.EXPIRED) and (in_time or (not in_time and late_ok)):
                registration.confirmed_at = now
                registration.expires_at = None
                _transition(registration, S.CONFIRMED, now=now, actor=actor, actor_label=actor_label,
                            reason=reason if in_time else f"{reason} after the hold ran out; a seat was free",
                            fields=("confirmed_at", "expires_at"))
                confirmed.append(registration)
            else:
                if registration.status in (S.HELD, S.OFFERED):
                    _transition(registration, S.EXPIRED, now=now, actor=actor, actor_label=actor_label,
                                reason="paid after the hold ran out; no seat for it")
                lost.append(registration)
        by_order: dict[int, list[Registration]] = {}
        for registration in confirmed:
            by_order.setdefault(registration.order_id, []).append(registration)
        for group in by_order.values():
            messages.queue_confirmation(group[0].order, group)
    return confirmed, lost


def waitlist_offer_next(*, course_id: int, now: dt.datetime | None = None) -> list[Registration]:
    """Offer free seats of a course to the people first in its waitlist (oldest first).

    An offer holds the seat for ``EnrollmentOptions.offer_hours``. Nothing is offered once the
    course is closed or cancelled. Locks: the course row.
    """
    now = now or timezone.now()
    offered: list[Registration] = []
    options = EnrollmentOptions.current()
    with locked_atomic():
        course = _lock_courses([course_id]).get(course_id)
        if course is None or not course.takes_registrations(now):
            return offered
        free = course.capacity - seats_taken(course_id, now=now)
        if free <= 0:
            return offered
        waiting = Registration.objects.filter(course_id=course_id, status=S.WAITLISTED).select_related("order")
        for registration in waiting.order_by("created_at", "pk")[:free]:
            registration.course = course
            closes = course.registration_closes_at
            registration.expires_at = min(now + dt.timedelta(hours=options.offer_hours), closes)
            _transition(registration, S.OFFERED, now=now, reason="a seat opened", fields=("expires_at",))
            messages.queue_waitlist_offer(registration)
            offered.append(registration)
    return offered


def holds_expire(*, now: dt.datetime | None = None) -> int:
    """Release holds and waitlist offers that ran out, then offer the freed seats to the
    waitlist. Safe to run twice at once: each row is re-read under its course's lock."""
    now = now or timezone.now()
    due = (
        Registration.objects.filter(status__in=[S.HELD, S.OFFERED], expires_at__lte=now)
        .values_list("course_id", flat=True).distinct()
    )
    released = 0
    for course_id in sorted(set(due)):
        with locked_atomic():
            _lock_courses([course_id])
            qs = Registration.objects.filter(course_id=course_id, status__in=[S.HELD, S.OFFERED], expires_at__lte=now)
            qs = qs.select_related("order", "course")
            for registration in qs.select_for_update(of=("self",)) if LOCKING else qs:
                was_offer = registration.status == S.OFFERED
                _transition(registration, S.EXPIRED, now=now,
                            reason="waitlist offer ran out" if was_offer else "hold ran out")
                if was_offer:
                    messages.queue_offer_expired(registration)
                released += 1
            waitlist_offer_next(course_id=course_id, now=now)
    return released


def registration_cancel(
    *, registration_id: int, now: dt.datetime | None = None, actor=None, actor_label: str = "patron",
    reason: str = "",
) -> Registration:
    """Cancel a registration (or leave the waitlist) and offer the freed seat to the waitlist.

    The refund owed follows from the registration's state (see ``enrollment.selectors.refund_due``);
    the caller settles it with ``finance`` right after, and finance then tells the patron how the
    refund comes back; without a refund due the message is queued here. Cancelling twice changes
    nothing. Locks: the course row, then the registration.
    """
    now = now or timezone.now()
    with locked_atomic():
        course_id = Registration.objects.values_list("course_id", flat=True).get(pk=registration_id)
        courses = _lock_courses([course_id])
        qs = Registration.objects.select_related("order")
        registration = (qs.select_for_update(of=("self",)) if LOCKING else qs).get(pk=registration_id)
        registration.course = courses[course_id]
        if registration.status == S.CANCELLED:
            return registration
        if registration.status not in (S.HELD, S.CONFIRMED, S.WAITLISTED, S.OFFERED):
            raise InvalidTransition("This registration can no longer be cancelled.")
        was = registration.status
        registration.cancelled_at = now
        _transition(registration, S.CANCELLED, now=now, actor=actor, actor_label=actor_label,
                    reason=reason or ("left the waitlist" if was == S.WAITLISTED else "cancelled"),
                    fields=("cancelled_at",))
        if refund_due(registration) <= 0:  # else finance tells them, with how the refund comes back
            messages.queue_cancelled(registration, was=was)
        if was in (S.HELD, S.CONFIRMED, S.OFFERED):
            waitlist_offer_next(course_id=course_id, now=now)
    return registration


def registration_transfer(
    *, registration_id: int, to_course_id: int, now: dt.datetime | None = None, actor=None,
    actor_label: str = "staff", reason: str = "", override_reason: str = "",
) -> tuple[Registration, Registration]:
    """Move a confirmed registration to another course: a new confirmed registration in the
    target (at the target's fee) and the old one marked transferred. The price difference is
    settled by finance from the order's balance. The old course's freed seat goes to its waitlist.

    The target's rules (open, before the cutoff, a free seat, the attendee not already in it)
    apply unless ``override_reason`` is given. Locks: both courses (ascending id), then the
    registration.
    """
    now = now or timezone.now()
    with locked_atomic():
        from_course_id = Registration.objects.values_list("course_id", flat=True).get(pk=registration_id)
        if from_course_id == to_course_id:
            raise EnrollmentError("Choose a different class to transfer to.", field="to_course")
        courses = _lock_courses([from_course_id, to_course_id])
        target = courses.get(to_course_id)
        if target is None:
            raise CourseNotOpen("That class does not exist.", field="to_course")
        qs = Registration.objects.select_related("order")
        old = (qs.select_for_update(of=("self",)) if LOCKING else qs).get(pk=registration_id)
        old.course = courses[from_course_id]
        if old.status != S.CONFIRMED:
            raise InvalidTransition("Only a confirmed registration can be transferred.")
        if override_reason:
            if target.status not in (Course.Status.OPEN, Course.Status.RUNNING):
                raise CourseNotOpen(f"“{target.title}” is {target.get_status_display().lower()}.", field="to_course")
        else:
            course_check_open(target, now=now)
            in_line = Registration.objects.filter(course_id=to_course_id, status=S.WAITLISTED).exists()
            if seats_taken(to_course_id, now=now) >= target.capacity or in_line:
                raise CourseFull(f"“{target.title}” is full.", field="to_course")
        if Registration.objects.filter(
            course_id=to_course_id, attendee_key=old.attendee_key, status__in=Registration.ACTIVE
        ).exists():
            raise AlreadyRegistered(f"{old.attendee_name} is already registered for “{target.title}”.", field="to_course")
        why = reason or "transfer"
        if override_reason:
            why += f"; override: {override_reason}"
        new = Registration(
            order=old.order, course=target, attendee_first_name=old.attendee_first_name,
            attendee_last_name=old.attendee_last_name, attendee_age=old.attendee_age,
            relationship=old.relationship, attendee_key=old.attendee_key, price=target.fee, confirmed_at=now,
            transferred_from=old, fund_paid=old.fund_paid, fund_returned=old.fund_returned,  # an award moves along
        )
        _transition(new, S.CONFIRMED, now=now, actor=actor, actor_label=actor_label, reason=f"{why} from “{old.course}”")
        _transition(old, S.TRANSFERRED, now=now, actor=actor, actor_label=actor_label, reason=f"{why} to “{target}”")
        messages.queue_confirmation(old.order, [new])
        waitlist_offer_next(course_id=from_course_id, now=now)
    return old, new
