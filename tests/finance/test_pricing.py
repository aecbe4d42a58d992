import datetime as dt
from decimal import Decimal

import pytest

from classes.models import Instructor, Venue
from core.models import SiteOptions
from finance.pricing import course_budget
from tests.factories import InstructorFactory, MeetingFactory, VenueFactory, course_with_meetings, local_dt, today

pytestmark = pytest.mark.django_db


def _options(rate="20.00"):
    opts = SiteOptions.current()
    opts.staff_hourly_rate = Decimal(rate)
    opts.save()
    return opts


def test_paid_instructor_hourly_room_fee():
    _options("20.00")
    venue = VenueFactory(kind=Venue.Kind.OUTSIDE, room_fee_terms=Venue.RoomFee.PER_HOUR, room_fee_rate=Decimal("12.50"))
    course = course_with_meetings(
        weekly=4, minutes=90, venue=venue, minimum=6, fee=Decimal("30.00"),
        instructor=InstructorFactory(hourly_rate=Decimal("15.00")),
        staff_hours=Decimal("2.00"), materials_cost=Decimal("18.00"), supplies_cost=Decimal("7.25"),
    )
    b = course_budget(course)
    assert b.class_hours == Decimal("6.00")
    assert b.instructor_pay == Decimal("90.00")  # 6 h × $15
    assert b.staff_time == Decimal("40.00")  # 2 h × $20
    assert b.room_fee == Decimal("75.00")  # 6 h × $12.50
    assert b.total_cost == Decimal("230.25")
    assert b.suggested_fee == Decimal("39.00")  # 230.25 / 6 = 38.375 → up to the dollar
    assert b.break_even == 8  # 230.25 / 30 = 7.675 → 8 paying registrants


def test_volunteer_instructor_per_meeting_room_fee():
    _options("20.00")
    venue = VenueFactory(kind=Venue.Kind.OUTSIDE, room_fee_terms=Venue.RoomFee.PER_MEETING, room_fee_rate=Decimal("40.00"))
    volunteer = InstructorFactory(pay_basis=Instructor.PayBasis.VOLUNTEER, hourly_rate=Decimal("15.00"))
    course = course_with_meetings(weekly=3, minutes=120, venue=venue, minimum=5, fee=Decimal("0.00"),
                                  instructor=volunteer, staff_hours=Decimal("1.00"))
    b = course_budget(course)
    assert b.instructor_pay == Decimal("0.00")
    assert b.room_fee == Decimal("120.00")  # 3 meetings × $40
    assert b.total_cost == Decimal("140.00")
    assert b.suggested_fee == Decimal("28.00")
    assert b.break_even is None  # free course with costs: no enrollment covers them


def test_library_room_no_fee_exact_division_is_not_rounded_up():
    _options("10.00")
    course = course_with_meetings(weekly=1, minutes=60, minimum=5, fee=Decimal("5.00"),
                                  staff_hours=Decimal("1.00"), instructor=InstructorFactory(hourly_rate=Decimal("15.00")))
    b = course_budget(course)
    assert b.room_fee == Decimal("0.00")
    assert b.total_cost == Decimal("25.00")
    assert b.suggested_fee == Decimal("5.00")
    assert b.break_even == 5


def test_meeting_at_override_venue_uses_that_venues_terms():
    _options("0.00")
    church = VenueFactory(kind=Venue.Kind.OUTSIDE, room_fee_terms=Venue.RoomFee.PER_MEETING, room_fee_rate=Decimal("25.00"))
    course = course_with_meetings(weekly=2, minutes=60, minimum=4, staff_hours=Decimal("0"),
                                  instructor=InstructorFactory(pay_basis=Instructor.PayBasis.VOLUNTEER))
    start = local_dt(today() + dt.timedelta(days=40), 10)
    MeetingFactory(course=course, venue=church, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    b = course_budget(course)
    assert b.room_fee == Decimal("25.00")  # only the meeting at the church is charged
    assert b.suggested_fee == Decimal("7.00")  # 25 / 4 = 6.25 → 7
