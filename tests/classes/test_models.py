import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from classes import schedule
from classes.models import Course, Meeting, Venue
from tests.factories import CourseFactory, MeetingFactory, SemesterFactory, VenueFactory, course_with_meetings, local_dt

pytestmark = pytest.mark.django_db


def _violates(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


def test_db_refuses_minimum_above_capacity():
    _violates(CourseFactory, capacity=5, minimum=6)


def test_db_refuses_negative_fee_and_costs():
    _violates(CourseFactory, fee=Decimal("-1.00"))
    _violates(CourseFactory, materials_cost=Decimal("-0.01"))


def test_db_refuses_meeting_ending_before_it_starts():
    start = local_dt(timezone.localdate() + dt.timedelta(days=20), 18)
    _violates(MeetingFactory, starts_at=start, ends_at=start - dt.timedelta(minutes=1))
    _violates(MeetingFactory, starts_at=start, ends_at=start)


def test_db_refuses_semester_ending_before_it_starts():
    day = timezone.localdate()
    _violates(SemesterFactory, starts_on=day, ends_on=day - dt.timedelta(days=1))


def test_db_refuses_room_rate_without_terms():
    _violates(VenueFactory, room_fee_terms=Venue.RoomFee.NONE, room_fee_rate=Decimal("10.00"))


def test_clean_reports_rules_on_their_fields():
    venue = VenueFactory(capacity=10)
    course = CourseFactory.build(venue=venue, capacity=12, minimum=14, age_min=12, age_max=8)
    with pytest.raises(ValidationError) as err:
        course.clean()
    assert set(err.value.message_dict) == {"capacity", "minimum", "age_max"}

    with pytest.raises(ValidationError) as err:
        Venue(room_fee_terms=Venue.RoomFee.PER_HOUR, room_fee_rate=Decimal("0"), latitude=Decimal("38.8")).clean()
    assert set(err.value.message_dict) == {"room_fee_rate", "longitude"}

    start = local_dt(timezone.localdate(), 9)
    with pytest.raises(ValidationError) as err:
        Meeting(starts_at=start, ends_at=start - dt.timedelta(hours=1)).clean()
    assert "ends_at" in err.value.message_dict


def test_cutoff_is_local_midnight_days_before_first_meeting():
    semester = SemesterFactory(starts_on=dt.date(2027, 1, 10), ends_on=dt.date(2027, 5, 10), cutoff_days=7)
    course = course_with_meetings(first=local_dt(dt.date(2027, 3, 10), 18, 30), weekly=3, semester=semester)
    closes = course.registration_closes_at
    assert schedule.local(closes) == local_dt(dt.date(2027, 3, 3), 0, 0)
    assert closes.tzinfo is not None
    assert f"{schedule.local(closes):%a, %b %-d}" == "Wed, Mar 3"
    assert course.last_day_to_register == dt.date(2027, 3, 2)
    assert not course.is_past_cutoff(local_dt(dt.date(2027, 3, 2), 23, 59))
    assert course.is_past_cutoff(local_dt(dt.date(2027, 3, 3), 0, 0))


def test_cutoff_across_daylight_saving_change():
    # First meeting Tue Mar 16 2027 (after DST starts Mar 14); 7 days earlier is still CST.
    semester = SemesterFactory(starts_on=dt.date(2027, 1, 10), ends_on=dt.date(2027, 5, 10), cutoff_days=7)
    course = course_with_meetings(first=local_dt(dt.date(2027, 3, 16), 18, 30), semester=semester)
    closes = schedule.local(course.registration_closes_at)
    assert (closes.date(), closes.hour, closes.minute) == (dt.date(2027, 3, 9), 0, 0)
    assert closes.utcoffset() == dt.timedelta(hours=-6)


def test_course_without_meetings_has_no_cutoff():
    course = CourseFactory()
    assert course.registration_closes_at is None
    assert not course.is_past_cutoff()


def test_age_range_label():
    assert CourseFactory.build(age_min=6, age_max=10).age_range_label == "Ages 6–10"
    assert CourseFactory.build(age_min=13, age_max=None).age_range_label == "Ages 13 and up"
    assert CourseFactory.build(audience=Course.Audience.ADULTS).age_range_label == ""


def test_meeting_hours_and_effective_venue():
    course = course_with_meetings(minutes=150)
    meeting = course.meetings.get()
    assert meeting.hours == Decimal("2.50")
    assert meeting.effective_venue == course.venue
    other = VenueFactory()
    meeting.venue = other
    assert meeting.effective_venue == other


def test_venue_links_use_coordinates_or_address():
    venue = VenueFactory.build(latitude=Decimal("38.8403"), longitude=Decimal("-97.6114"))
    assert "mlat=38.8403" in venue.map_url and "mlon=-97.6114" in venue.map_url
    venue = VenueFactory.build(latitude=None, longitude=None, street_address="100 Main St")
    assert "100+Main+St" in venue.directions_url
