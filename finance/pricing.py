"""Course budgets: what a course costs, the fee that covers it, and its break-even enrollment.

suggested fee = (instructor pay + staff time + room fee + materials + supplies) ÷ minimum,
rounded up to the whole dollar.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from classes.models import Course, Venue
from core.models import SiteOptions
from core.money import ZERO, ceil_dollars, round_cents


@dataclass(frozen=True)
class CourseBudget:
    class_hours: Decimal
    instructor_pay: Decimal
    staff_time: Decimal
    room_fee: Decimal
    materials: Decimal
    supplies: Decimal
    minimum: int
    fee: Decimal

    @property
    def total_cost(self) -> Decimal:
        return round_cents(self.instructor_pay + self.staff_time + self.room_fee + self.materials + self.supplies)

    @property
    def suggested_fee(self) -> Decimal:
        if self.minimum <= 0:
            return ZERO
        return ceil_dollars(self.total_cost / self.minimum)

    @property
    def break_even(self) -> int | None:
        """Paying registrants needed at the charged fee to cover the costs (None for a free course
        that has costs: no number of registrants covers them)."""
        if self.total_cost == 0:
            return 0
        if self.fee <= 0:
            return None
        return math.ceil(self.total_cost / self.fee)

    @property
    def lines(self) -> list[tuple[str, Decimal]]:
        return [
            ("Instructor pay", self.instructor_pay),
            ("Staff time", self.staff_time),
            ("Room fee", self.room_fee),
            ("Materials", self.materials),
            ("Supplies", self.supplies),
        ]


def room_fee_for(venue: Venue, *, meetings: int, hours: Decimal) -> Decimal:
    if venue.room_fee_terms == Venue.RoomFee.PER_MEETING:
        return round_cents(venue.room_fee_rate * meetings)
    if venue.room_fee_terms == Venue.RoomFee.PER_HOUR:
        return round_cents(venue.room_fee_rate * hours)
    return ZERO


def course_budget(course: Course, *, options: SiteOptions | None = None) -> CourseBudget:
    """The budget of ``course`` from its meetings, instructor, venue(s) and cost lines."""
    options = options or SiteOptions.current()
    meetings = course.ordered_meetings() if course.pk else []
    class_hours = sum((m.hours for m in meetings), Decimal("0.00"))
    room_fee = ZERO
    per_venue: dict[int, tuple[Venue, int, Decimal]] = {}
    for m in meetings:
        venue = m.venue or course.venue
        _, count, hours = per_venue.get(venue.pk, (venue, 0, Decimal("0.00")))
        per_venue[venue.pk] = (venue, count + 1, hours + m.hours)
    for venue, count, hours in per_venue.values():
        room_fee += room_fee_for(venue, meetings=count, hours=hours)
    return CourseBudget(
        class_hours=class_hours,
        instructor_pay=round_cents(class_hours * course.instructor.effective_rate),
        staff_time=round_cents(course.staff_hours * options.staff_hourly_rate),
        room_fee=round_cents(room_fee),
        materials=round_cents(course.materials_cost),
        supplies=round_cents(course.supplies_cost),
        minimum=course.minimum,
        fee=round_cents(course.fee),
    )


def scholarship_patron_price(fee: Decimal) -> Decimal:
    """What a patron with a Pass the Buck scholarship pays for a seat at ``fee``: the fee less what
    the fund pays (``finance.services.scholarships.scholarship_amount``, the one half rule; the
    patron's half takes the odd cent). Shown at checkout before anything is awarded."""
    from .services.scholarships import scholarship_amount  # late: the services import far more than pricing

    return fee - scholarship_amount(fee)
