"""Placing an order: a seat held (or confirmed, or a waitlist place) for every attendee, at online
checkout and at the front desk (``order_place``), with the rules of an open course and the
"never the same attendee twice" rule; holds and offers that ran out are released first."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from classes.models import Course
from core.locking import locked_atomic

from .. import messages
from ..models import EnrollmentOptions, Order, Registration
from . import seats
from .errors import AgeOutOfRange, AlreadyRegistered, CourseFull, CourseNotOpen, DuplicateCheckout, EnrollmentError
from .waitlist import waitlist_offer_next

S = Registration.Status


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
        seats.attendee_key(first_name=a.first_name, last_name=a.last_name, email=buyer.email, phone=buyer.phone)
        for a in attendees
    ]
    if checkout_key:
        placed = Order.objects.filter(checkout_key=checkout_key).values_list("token", flat=True).first()
        if placed:
            raise DuplicateCheckout("This checkout was already placed.", order_token=placed)
    with locked_atomic():
        courses = seats.courses_lock(a.course_id for a in attendees)
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
                seats.course_check_open(course, now=now, index=i)
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
        # Counted course by course through ``seats.seats_taken``: the one count every seat service
        # makes under the locks (the race tests hold each buyer right after it).
        taken = {pk: seats.seats_taken(pk, now=now) for pk in courses}
        in_line = set(
            Registration.objects.filter(course_id__in=courses, status=S.WAITLISTED).values_list("course_id", flat=True)
        )
        new: list[tuple[Registration, str, str]] = []  # saved together below (seats.registrations_create)
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
                    new.append((registration, S.CONFIRMED, why))
                    result.confirmed.append(registration)
                elif course.fee > 0:
                    # A hold never outlives the cutoff: a payment after it would land on a course
                    # the week-out run may already have decided.
                    hold_end = hold_until or now + dt.timedelta(minutes=options.hold_minutes)
                    closes = course.registration_closes_at
                    registration.expires_at = min(hold_end, closes) if closes and not override_reason else hold_end
                    new.append((registration, S.HELD, "checkout"))
                    result.held.append(registration)
                else:
                    registration.confirmed_at = now
                    new.append((registration, S.CONFIRMED, "free class"))
                    result.confirmed.append(registration)
            elif join_waitlist is True or (not isinstance(join_waitlist, bool) and course.pk in join_waitlist):
                new.append((registration, S.WAITLISTED, "course full"))
                result.waitlisted.append(registration)
            else:
                raise CourseFull(f"“{course.title}” is full. You can join its waitlist.", index=i)
        seats.registrations_create(new, now=now, actor=actor, actor_label=actor_label)
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
    for registration in qs.select_for_update(of=("self",)) if seats.LOCKING else qs:
        registration.course = courses[registration.course_id]
        was_offer = registration.status == S.OFFERED
        seats.registration_transition(registration, S.EXPIRED, now=now,
                                      reason="waitlist offer ran out" if was_offer else "hold ran out")
        if was_offer:
            messages.queue_offer_expired(registration)
        freed.add(registration.course_id)
    return freed
