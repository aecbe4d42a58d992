"""An iCalendar (.ics) file of a course's meetings, for patrons' own calendars."""

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone
from icalendar import Calendar, Event

from . import schedule
from .models import Course, Meeting

PRODID = "-//Library Classes//Public catalog//EN"


def meeting_uid(meeting: Meeting, *, host: str) -> str:
    """A UID that stays the same for a meeting, so a re-import updates instead of duplicating.
    (Anything with the meeting's ``pk`` will do: a ``classes.changes.MeetingState`` of a meeting
    that was removed gives the UID to cancel.)"""
    return f"meeting-{meeting.pk}@{host}"


def course_calendar(
    course: Course, *, course_url: str, host: str, program_name: str = "", now: dt.datetime | None = None,
    removed: Iterable = (),
) -> bytes:
    """The calendar of ``course``: one VEVENT per meeting, in the program's time zone
    (settings.TIME_ZONE) with its VTIMEZONE included, so clients show the right local times
    on both sides of a daylight-saving change.

    Uses ``course.meetings`` (prefetched with their venues by ``catalog_courses``) and
    ``course.venue``; a cancelled course's events say STATUS:CANCELLED.

    Every event carries ``SEQUENCE`` = ``course.revision``, which goes up with each change patrons
    are told about, so a calendar that imported an earlier file replaces the event of the same UID
    (RFC 5545 §3.8.7.4). ``removed`` are meetings taken out of the course since (``MeetingState``
    of ``classes.changes``): each is sent once more with STATUS:CANCELLED and the new SEQUENCE, so
    calendars drop it too.
    """
    stamp = (now or timezone.now()).astimezone(dt.UTC)
    meetings = course.ordered_meetings()
    removed = list(removed)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", course.title)
    cal.add("x-wr-timezone", timezone.get_default_timezone_name())

    description = f"{course.title}\n{course_url}"
    if program_name:
        description = f"{program_name}: {description}"
    cancelled = course.status == Course.Status.CANCELLED
    for meeting in meetings:
        venue = meeting.venue or course.venue  # not effective_venue: no query back to the course
        event = Event()
        event.add("uid", meeting_uid(meeting, host=host))
        event.add("dtstamp", stamp)
        event.add("dtstart", schedule.local(meeting.starts_at))
        event.add("dtend", schedule.local(meeting.ends_at))
        event.add("summary", course.title)
        event.add("location", f"{venue.name}, {venue.full_address}")
        event.add("description", description)
        event.add("url", course_url)
        event.add("sequence", course.revision)
        if cancelled:
            event.add("status", "CANCELLED")
        cal.add_component(event)
    for gone in removed:
        event = Event()
        event.add("uid", meeting_uid(gone, host=host))
        event.add("dtstamp", stamp)
        event.add("dtstart", schedule.local(gone.starts_at))
        event.add("dtend", schedule.local(gone.ends_at))
        event.add("summary", f"Cancelled: {course.title}")
        event.add("location", str(gone.place))
        event.add("description", description)
        event.add("url", course_url)
        event.add("sequence", course.revision)
        event.add("status", "CANCELLED")
        cal.add_component(event)
    spans = [*meetings, *removed]

    if spans:
        first = min(schedule.local(m.starts_at).date() for m in spans)
        last = max(schedule.local(m.ends_at).date() for m in spans)
        # Just the years the course spans: a short VTIMEZONE with the real DST rules for them.
        cal.add_missing_timezones(first_date=dt.date(first.year, 1, 1), last_date=dt.date(last.year + 1, 1, 1))
    return cal.to_ical()
