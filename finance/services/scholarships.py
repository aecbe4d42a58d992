"""Pass the Buck scholarships: an attendee who asks attends at half price and the fund pays the
other half (ARCHITECTURE §1, §5).

- ``scholarship_requests_check`` / ``scholarship_award``: the rules of asking and the award of
  one seat — a succeeded ``scholarship`` payment of half the fee (rounded down to the cent; the
  patron pays the rest) and the fund's award entry (−), made by ``fund_award`` under the fund
  row's lock. The checkout (``finance.services.checkout.checkout_place``) calls them in the
  order's transaction; when the fund cannot cover every half asked for, ``FundShort`` says which
  attendee and the page offers full price or the scholarship waitlist.
- ``scholarships_apply``: for seats offered from the (seat) waitlist, whose scholarship was asked
  for at checkout but could not be awarded while they waited: the pay page awards it.
- ``scholarship_wait_join``: the scholarship waitlist. As donations arrive, the oldest request
  whose half the fund now covers gets a seat held with its award made
  (``finance.services.scholarship_offers.scholarship_waits_offer``).

The course's income stays whole: card (or cash) + scholarship payments = the price. Who received
a scholarship is seen only by coordinators and finance: nothing here writes it where rosters,
instructors or public pages read.

Locks, in the one order every locker uses: the course rows (seat service), the registrations,
then the fund row (``fund_award``).
"""

import datetime as dt
import logging
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from classes.models import Course
from core.locking import locked_atomic
from core.money import CENT, ZERO
from enrollment import messages as enrollment_messages
from enrollment.models import EnrollmentOptions, Order, Registration, ScholarshipWait
from enrollment.services import AttendeeInput, BuyerInput, EnrollmentError
from enrollment.services.seats import attendee_key, course_check_open

from ..models import FundEntry, Payment
from .fund import FundInsufficient, fund_award

log = logging.getLogger(__name__)

S = Registration.Status
K = FundEntry.Kind
W = ScholarshipWait.Status


class ScholarshipError(EnrollmentError):
    """A scholarship that cannot be given as asked; the message goes on the attendee's
    "scholarship" field (``index`` = the attendee)."""

    field = "scholarship"


class ScholarshipNotNeeded(ScholarshipError):
    pass


class ScholarshipLimitReached(ScholarshipError):
    pass


class FundShort(ScholarshipError):
    """The fund cannot pay half of this seat now. Said kindly: the patron can register at full
    price or join the scholarship waitlist."""

    def __init__(self, message: str, *, index: int | None = None, course_id: int | None = None):
        super().__init__(message, index=index)
        self.course_id = course_id


FUND_SHORT_MESSAGE = (
    "The Pass the Buck fund can’t cover a scholarship for “{title}” right now — it depends on donations, "
    "and they have all been given out for the moment. You can register at full price, or join the "
    "scholarship waitlist: we’ll e-mail you as soon as donations make it possible."
)


def scholarship_amount(fee: Decimal) -> Decimal:
    """What the fund pays of a seat: half the fee, rounded down to the cent (the patron pays the
    other half, rounded up)."""
    return (fee / 2).quantize(CENT, rounding=ROUND_DOWN) if fee > 0 else ZERO


def awards_in_semester(attendee_keys: set[str], semester_id: int, *, now: dt.datetime | None = None
                       ) -> dict[str, int]:
    """How many scholarships (awards not returned) each attendee has in a semester. An award
    that is owed back to the fund — its hold or offer ran out, its seat or its class was
    cancelled — does not count, whether or not the returns sweep has booked it yet (otherwise a
    patron retrying right after a hold ran out would be refused by the limit)."""
    now = now or timezone.now()
    still_held = Q(registration__status__in=[S.CONFIRMED, S.TRANSFERRED]) | Q(
        registration__status__in=[S.HELD, S.OFFERED], registration__expires_at__gt=now)
    rows = (
        FundEntry.objects.filter(kind=K.AWARD, registration__attendee_key__in=attendee_keys,
                                 registration__course__semester_id=semester_id)
        .filter(still_held).exclude(registration__course__status=Course.Status.CANCELLED)
        .exclude(registration__fund_entries__kind=K.AWARD_RETURNED)
        .values("registration__attendee_key").annotate(n=Count("pk"))
    )
    return {row["registration__attendee_key"]: row["n"] for row in rows}


def scholarship_requests_check(*, buyer: BuyerInput, attendees: list[AttendeeInput], courses: dict[int, Course],
                               limit: int, desk: bool, now: dt.datetime) -> None:
    """The rules of asking, before anything is written: a paid class, and at most ``limit``
    scholarships per attendee per semester (this order's requests included)."""
    counted: dict[tuple[str, int], int] = {}
    for i, a in enumerate(attendees):
        if not a.scholarship:
            continue
        course = courses.get(a.course_id)
        if course is None:
            continue  # the seat service says "not in the catalog"
        if course.fee <= 0:
            raise ScholarshipNotNeeded(f"“{course.title}” is free: no scholarship is needed.", index=i)
        if scholarship_amount(course.fee) <= 0:
            raise ScholarshipNotNeeded(f"The fee for “{course.title}” is too small to split.", index=i)
        if limit == 0 and not desk:
            raise ScholarshipLimitReached(
                "Scholarships are not offered online this semester. Please call or visit the library.", index=i
            )
        key = attendee_key(first_name=a.first_name, last_name=a.last_name, email=buyer.email, phone=buyer.phone)
        slot = (key, course.semester_id)
        if slot not in counted:
            counted[slot] = awards_in_semester({key}, course.semester_id, now=now).get(key, 0)
        counted[slot] += 1
        if counted[slot] > limit and not desk:
            raise ScholarshipLimitReached(
                f"{a.first_name} has reached the limit of {limit} scholarship class"
                f"{'es' if limit != 1 else ''} this semester. You can register at full price.", index=i,
            )


def scholarship_award(*, registration: Registration, by=None, reason: str = "",
                      now: dt.datetime | None = None) -> Payment:
    """Pay half of ``registration``'s price from the fund: a succeeded ``scholarship`` payment and
    the fund's award entry, written together (the caller's transaction; a refusal writes
    neither). A repeat returns the payment already made. Raises ``FundInsufficient``.
    Locks: the fund row (``fund_award``) — lock the course and registration rows first."""
    now = now or timezone.now()
    existing = FundEntry.objects.filter(dedupe_key=f"award:{registration.pk}").select_related("payment").first()
    if existing is not None and existing.payment is not None:
        return existing.payment
    amount = scholarship_amount(registration.price)
    with locked_atomic():
        payment = Payment.objects.create(
            order_id=registration.order_id, provider=Payment.Provider.SCHOLARSHIP, amount=amount,
            status=Payment.Status.SUCCEEDED, succeeded_at=now, reference=f"award:{registration.pk}",
            taken_by=by,
        )
        payment.registrations.set([registration])
        fund_award(registration=registration, amount=amount, by=by, payment=payment, now=now,
                   reason=reason or "Pass the Buck scholarship: half the fee")
    log.info("scholarship awarded to registration %s", registration.pk)
    return payment


def scholarships_apply(*, order: Order, now: dt.datetime | None = None) -> list[Registration]:
    """Award the scholarships asked for by the order's payable seats that have none yet (seats
    offered from the waitlist: the request was made at checkout, the award waits for the seat).
    Returns the registrations that are paid at full price instead, each with ``short_reason``:
    the fund cannot cover it now, the attendee reached the semester's limit meanwhile, or a card
    payment at full price was already started for it (an award now could make them pay 150%).

    Locks: the order row first (``payment_start`` locks it too, so a payment is never started
    at a price an award is changing), then each seat's course, the registration, the fund row."""
    now = now or timezone.now()
    short: list[Registration] = []
    due = (order.registrations.filter(scholarship_requested=True, status__in=[S.HELD, S.OFFERED], expires_at__gt=now,
                                      price__gt=0)
           .exclude(fund_entries__kind=K.AWARD).select_related("course").order_by("pk"))
    if not due.exists():
        return short
    limit = EnrollmentOptions.current().scholarship_limit
    with locked_atomic():
        list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))
        for registration in due:
            list(Course.objects.select_for_update().filter(pk=registration.course_id).values_list("pk", flat=True))
            fresh = Registration.objects.select_for_update().get(pk=registration.pk)
            if fresh.status not in (S.HELD, S.OFFERED) or fresh.expires_at <= now:
                continue
            if FundEntry.objects.filter(dedupe_key=f"award:{fresh.pk}").exists():
                continue
            started = Payment.objects.filter(registrations=fresh, provider=Payment.Provider.CARD,
                                             status__in=[Payment.Status.PENDING, Payment.Status.SUCCEEDED])
            if started.exists():
                registration.short_reason = "started"
                short.append(registration)
                continue
            held = awards_in_semester({fresh.attendee_key}, registration.course.semester_id, now=now)
            if held.get(fresh.attendee_key, 0) >= limit:
                registration.short_reason = "limit"
                short.append(registration)
                continue
            try:
                with locked_atomic():
                    scholarship_award(registration=fresh, now=now)
            except FundInsufficient:
                registration.short_reason = "fund"
                short.append(registration)
    return short


# --- the scholarship waitlist -----------------------------------------------------------------

def scholarship_wait_join(*, buyer: BuyerInput, attendee: AttendeeInput, now: dt.datetime | None = None
                          ) -> ScholarshipWait:
    """Put an attendee on the scholarship waitlist of a course (once: asking again returns the
    entry). The course must be open for registration and not free. Nothing is held or charged."""
    now = now or timezone.now()
    course = Course.objects.filter(pk=attendee.course_id).first()
    if course is None:
        raise ScholarshipError("That class is not in the catalog.")
    course_check_open(course, now=now)
    if course.fee <= 0:
        raise ScholarshipNotNeeded(f"“{course.title}” is free: no scholarship is needed.")
    key = attendee_key(first_name=attendee.first_name, last_name=attendee.last_name, email=buyer.email,
                       phone=buyer.phone)
    existing = ScholarshipWait.objects.filter(course=course, attendee_key=key, status__in=[W.WAITING, W.OFFERED]).first()
    if existing is not None and not _offer_lapsed(existing, now=now):
        return existing
    active = Registration.objects.filter(course=course, attendee_key=key, status__in=Registration.ACTIVE).exclude(
        status__in=[S.HELD, S.OFFERED], expires_at__lte=now)  # a hold that ran out is no registration
    if active.exists():
        raise ScholarshipError(f"{attendee.first_name} is already registered for “{course.title}”.")
    try:
        with transaction.atomic():
            if existing is not None:  # its offer ran out unpaid: that entry is closed, a new one waits
                scholarship_wait_close(existing, "The seat offered with a scholarship was not paid for in time.")
            wait = ScholarshipWait.objects.create(
                course=course, first_name=buyer.first_name, last_name=buyer.last_name, email=buyer.email,
                phone=buyer.phone, referral_id=buyer.referral_id, attendee_first_name=attendee.first_name,
                attendee_last_name=attendee.last_name, attendee_age=attendee.age, relationship=attendee.relationship,
                attendee_key=key,
            )
            enrollment_messages.queue_scholarship_wait_joined(wait)
    except IntegrityError:  # the same request, submitted twice at once: the other one made the entry
        wait = ScholarshipWait.objects.filter(course=course, attendee_key=key,
                                              status__in=[W.WAITING, W.OFFERED]).first()
        if wait is None:
            raise
        return wait
    log.info("scholarship waitlist entry %s for course %s", wait.pk, course.pk)
    return wait


def _offer_lapsed(wait: ScholarshipWait, *, now: dt.datetime) -> bool:
    """An offered entry whose held seat was neither paid nor is still held (it ran out or was
    cancelled): the entry no longer stands for anything."""
    if wait.status != W.OFFERED:
        return False
    seat = Registration.objects.filter(order_id=wait.order_id, course_id=wait.course_id).filter(
        Q(status=S.CONFIRMED) | Q(status__in=[S.HELD, S.OFFERED], expires_at__gt=now))
    return not seat.exists()


def scholarship_wait_close(wait: ScholarshipWait, why: str) -> None:
    """Close a scholarship waitlist entry, saying why (the entry no longer waits)."""
    wait.status = W.CLOSED
    wait.closed_reason = why[:200]
    wait.save(update_fields=["status", "closed_reason", "updated_at"])
