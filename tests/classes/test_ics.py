"""The course calendar (.ics): one event per meeting, in local time with its time zone defined."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from classes.models import Course
from tests.factories import MeetingFactory, SemesterFactory, VenueFactory, course_with_meetings, local_dt

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def _ics_url(course) -> str:
    return reverse("classes:course-ics", args=[course.semester.slug, course.slug])


def _get_calendar(client, course) -> tuple[object, Calendar]:
    response = client.get(_ics_url(course))
    assert response.status_code == 200
    return response, Calendar.from_ical(response.content)


@pytest.fixture
def winter_and_summer_course():
    """A course meeting at 6:30 pm Chicago time in January (CST) and in July (CDT)."""
    year = dt.date.today().year + 2
    semester = SemesterFactory(slug="year-long", starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31))
    venue = VenueFactory(name="Main Library Room A", street_address="301 W Elm St", city="Salina", state="KS",
                         postal_code="67401")
    church = VenueFactory(name="First Church Hall", street_address="9 Oak Ave", city="Salina", state="KS",
                          postal_code="67401")
    course = course_with_meetings(
        semester=semester, slug="night-sky", title="The Night Sky", venue=venue,
        first=local_dt(dt.date(year, 1, 12), 18, 30), minutes=90,
    )
    MeetingFactory(course=course, venue=church, starts_at=local_dt(dt.date(year, 7, 13), 18, 30),
                   ends_at=local_dt(dt.date(year, 7, 13), 20, 0))
    return course


def test_one_event_per_meeting_in_local_time(client, winter_and_summer_course):
    course = winter_and_summer_course
    response, cal = _get_calendar(client, course)

    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == 'attachment; filename="year-long-night-sky.ics"'

    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert len(events) == course.meetings.count() == 2
    winter, summer = events
    for event in events:
        assert str(event["SUMMARY"]) == "The Night Sky"
        assert event["DTSTART"].params["TZID"] == "America/Chicago"
        start = event.decoded("dtstart").astimezone(CHICAGO)
        end = event.decoded("dtend").astimezone(CHICAGO)
        assert (start.hour, start.minute) == (18, 30)
        assert end - start == dt.timedelta(minutes=90)
        assert course.get_absolute_url() in str(event["DESCRIPTION"])
    # The same 6:30 pm is a different UTC hour on either side of daylight saving time.
    assert winter.decoded("dtstart").astimezone(dt.UTC).hour == 0  # CST, UTC−6 → 00:30 next day
    assert summer.decoded("dtstart").astimezone(dt.UTC).hour == 23  # CDT, UTC−5 → 23:30
    assert b"DTSTART;TZID=America/Chicago:" in response.content
    assert str(winter["LOCATION"]) == "Main Library Room A, 301 W Elm St, Salina, KS 67401"
    assert str(summer["LOCATION"]) == "First Church Hall, 9 Oak Ave, Salina, KS 67401"


def test_time_zone_is_defined_in_the_file(client, winter_and_summer_course):
    _, cal = _get_calendar(client, winter_and_summer_course)
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["America/Chicago"]
    offsets = {sub.name: sub["TZOFFSETTO"].td for sub in zones[0].subcomponents}
    assert offsets == {"STANDARD": dt.timedelta(hours=-6), "DAYLIGHT": dt.timedelta(hours=-5)}


def test_uids_are_stable_and_unique_per_meeting(client, winter_and_summer_course):
    course = winter_and_summer_course
    _, first = _get_calendar(client, course)
    _, again = _get_calendar(client, course)
    uids = [str(e["UID"]) for e in first.walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in again.walk("VEVENT")]
    assert sorted(uids) == sorted(f"meeting-{m.pk}@testserver" for m in course.meetings.all())
    assert all("DTSTAMP" in e for e in first.walk("VEVENT"))


def test_cancelled_course_events_are_marked_cancelled(client):
    course = course_with_meetings(weekly=3, status=Course.Status.CANCELLED)
    _, cal = _get_calendar(client, course)
    assert [str(e["STATUS"]) for e in cal.walk("VEVENT")] == ["CANCELLED"] * 3


def test_unknown_or_draft_course_is_404(client):
    draft = course_with_meetings(status=Course.Status.DRAFT)
    assert client.get(_ics_url(draft)).status_code == 404
    assert client.get(reverse("classes:course-ics", args=[draft.semester.slug, "nope"])).status_code == 404


def test_events_carry_the_course_revision_as_their_sequence(client, winter_and_summer_course):
    """Each change patrons are told about raises ``Course.revision``: a calendar that imported the
    file before replaces the events of the same UID (RFC 5545 SEQUENCE)."""
    course = winter_and_summer_course
    _, cal = _get_calendar(client, course)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert [int(e["SEQUENCE"]) for e in cal.walk("VEVENT")] == [0, 0]
    Course.objects.filter(pk=course.pk).update(revision=3)
    _, again = _get_calendar(client, course)
    assert [int(e["SEQUENCE"]) for e in again.walk("VEVENT")] == [3, 3]
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in cal.walk("VEVENT")]
