import datetime as dt

import pytest

from classes.models import Course, Venue
from classes.selectors import MeetingDraft, meeting_problems
from classes.services import ScheduleConflict, course_copy_to_semester, courses_copy_to_semester
from tests.factories import CourseFactory, SemesterFactory, VenueFactory, course_with_meetings, local_dt

pytestmark = pytest.mark.django_db

SPRING = dict(starts_on=dt.date(2027, 1, 11), ends_on=dt.date(2027, 5, 14))


def _draft(key, day, hour, minutes=90, venue=None):
    start = local_dt(day, hour)
    return MeetingDraft(key=key, starts_at=start, ends_at=start + dt.timedelta(minutes=minutes), venue=venue)


def test_clean_schedule_has_no_problems():
    course = CourseFactory.build(semester=SemesterFactory(**SPRING), venue=VenueFactory(), instructor=CourseFactory().instructor)
    assert meeting_problems(course=course, drafts=[_draft(0, dt.date(2027, 2, 2), 18), _draft(1, dt.date(2027, 2, 9), 18)]) == []


def test_meeting_outside_the_semester():
    course = CourseFactory(semester=SemesterFactory(**SPRING))
    problems = meeting_problems(course=course, drafts=[_draft("a", dt.date(2027, 5, 20), 18)])
    assert [(k, f) for k, f, _ in problems] == [("a", "starts_at")]
    assert "outside" in problems[0][2]


def test_two_meetings_of_one_course_overlap():
    course = CourseFactory(semester=SemesterFactory(**SPRING))
    problems = meeting_problems(
        course=course, drafts=[_draft(0, dt.date(2027, 2, 2), 18), _draft(1, dt.date(2027, 2, 2), 19)]
    )
    assert [k for k, _, _ in problems] == [1]


def test_library_room_double_booked_but_not_when_other_course_cancelled():
    semester = SemesterFactory(**SPRING)
    room = VenueFactory(kind=Venue.Kind.LIBRARY_ROOM)
    existing = course_with_meetings(first=local_dt(dt.date(2027, 2, 2), 18), venue=room, semester=semester)
    newcomer = CourseFactory(semester=semester, venue=room)
    drafts = [_draft(0, dt.date(2027, 2, 2), 19)]  # 19:00–20:30 overlaps 18:00–19:30
    problems = meeting_problems(course=newcomer, drafts=drafts)
    assert len(problems) == 1 and "already booked" in problems[0][2]
    existing.status = Course.Status.CANCELLED
    existing.save()
    assert meeting_problems(course=newcomer, drafts=drafts) == []


def test_back_to_back_bookings_are_allowed():
    semester = SemesterFactory(**SPRING)
    room = VenueFactory(kind=Venue.Kind.LIBRARY_ROOM)
    course_with_meetings(first=local_dt(dt.date(2027, 2, 2), 18), venue=room, semester=semester)
    newcomer = CourseFactory(semester=semester, venue=room)
    start = local_dt(dt.date(2027, 2, 2), 19, 30)
    draft = MeetingDraft(key=0, starts_at=start, ends_at=start + dt.timedelta(hours=1), venue=None)
    assert meeting_problems(course=newcomer, drafts=[draft]) == []


def test_room_booked_through_a_meeting_venue_override():
    semester = SemesterFactory(**SPRING)
    room = VenueFactory(kind=Venue.Kind.LIBRARY_ROOM)
    elsewhere = course_with_meetings(first=local_dt(dt.date(2027, 2, 2), 18), semester=semester)
    elsewhere.meetings.update(venue=room)
    newcomer = CourseFactory(semester=semester, venue=room)
    assert len(meeting_problems(course=newcomer, drafts=[_draft(0, dt.date(2027, 2, 2), 18)])) == 1


def test_outside_venue_may_be_shared():
    semester = SemesterFactory(**SPRING)
    hall = VenueFactory(kind=Venue.Kind.OUTSIDE)
    course_with_meetings(first=local_dt(dt.date(2027, 2, 2), 18), venue=hall, semester=semester)
    newcomer = CourseFactory(semester=semester, venue=hall)
    assert meeting_problems(course=newcomer, drafts=[_draft(0, dt.date(2027, 2, 2), 18)]) == []


def test_instructor_in_two_places_at_once():
    semester = SemesterFactory(**SPRING)
    existing = course_with_meetings(first=local_dt(dt.date(2027, 2, 2), 18), semester=semester)
    newcomer = CourseFactory(semester=semester, instructor=existing.instructor)
    problems = meeting_problems(course=newcomer, drafts=[_draft(0, dt.date(2027, 2, 2), 17)])
    assert len(problems) == 1 and "teaching" in problems[0][2]


def test_copy_to_semester_keeps_weekdays_and_local_times():
    fall = SemesterFactory(starts_on=dt.date(2026, 8, 24), ends_on=dt.date(2026, 12, 12))
    spring = SemesterFactory(**SPRING)
    # Thursdays at 6:30 pm in October (CDT), three weeks.
    course = course_with_meetings(first=local_dt(dt.date(2026, 10, 1), 18, 30), weekly=3, semester=fall)
    copy = course_copy_to_semester(course=course, semester=spring)
    assert copy.semester == spring and copy.status == Course.Status.DRAFT and copy.pk != course.pk
    starts = [m.starts_at for m in copy.ordered_meetings()]
    assert len(starts) == 3
    from classes.schedule import local

    for start in starts:
        assert local(start).weekday() == 3  # Thursday
        assert (local(start).hour, local(start).minute) == (18, 30)  # same local time across DST
        assert spring.starts_on <= local(start).date() <= spring.ends_on
    assert [(b - a).days for a, b in zip(starts, starts[1:], strict=False)] == [7, 7]
    assert copy.slug == course.slug  # free in the target semester


def test_copy_gets_a_fresh_slug_when_taken():
    fall = SemesterFactory(starts_on=dt.date(2026, 8, 24), ends_on=dt.date(2026, 12, 12))
    spring = SemesterFactory(**SPRING)
    course = course_with_meetings(first=local_dt(dt.date(2026, 10, 1), 18, 30), semester=fall)
    CourseFactory(semester=spring, slug=course.slug)
    assert course_copy_to_semester(course=course, semester=spring).slug == f"{course.slug}-2"


def test_copy_that_would_clash_is_refused_and_writes_nothing():
    fall = SemesterFactory(starts_on=dt.date(2026, 8, 24), ends_on=dt.date(2026, 12, 12))
    spring = SemesterFactory(**SPRING)
    course = course_with_meetings(first=local_dt(dt.date(2026, 10, 1), 18, 30), semester=fall)
    first_copy = course_copy_to_semester(course=course, semester=spring)
    first_copy.status = Course.Status.OPEN
    first_copy.save()
    before = Course.objects.count()
    with pytest.raises(ScheduleConflict):
        course_copy_to_semester(course=course, semester=spring)  # same room, same instructor, same time
    assert Course.objects.count() == before
    result = courses_copy_to_semester(courses=[course], semester=spring)
    assert result.copied == [] and len(result.skipped) == 1
