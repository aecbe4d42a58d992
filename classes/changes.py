"""What patrons would notice when a course is changed: a snapshot of the details they rely on
(title, venue, fee, each meeting's time and place) and the difference between two snapshots.

The back office takes a snapshot before it saves a course and another after, and hands the
difference to ``enrollment.services.course_changes``, which tells the registrants. Reads only;
nothing here writes or sends.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from .models import Course, Meeting, Venue


@dataclass(frozen=True)
class Place:
    """A venue as patrons see it (name and address), kept by value so it survives the save."""

    pk: int
    name: str
    address: str

    @classmethod
    def of(cls, venue: Venue) -> "Place":
        return cls(pk=venue.pk, name=venue.name, address=venue.full_address)

    def __str__(self):
        return f"{self.name}, {self.address}"


@dataclass(frozen=True)
class MeetingState:
    """One meeting: its id (the calendar UID), its times and where it meets (its own venue, or
    the course's)."""

    pk: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: Place
    #: The meeting has its own venue (not the course's).
    own_venue: bool = False


@dataclass(frozen=True)
class CourseState:
    title: str
    place: Place
    fee: Decimal
    capacity: int
    meetings: tuple[MeetingState, ...] = ()


def course_state(course_id: int) -> CourseState:
    """The course as stored now (read fresh, not from any instance a form has changed). Two queries."""
    course = Course.objects.select_related("venue").get(pk=course_id)
    place = Place.of(course.venue)
    meetings = tuple(
        MeetingState(pk=m.pk, starts_at=m.starts_at, ends_at=m.ends_at,
                     place=Place.of(m.venue) if m.venue_id else place, own_venue=m.venue_id is not None)
        for m in Meeting.objects.filter(course_id=course_id).select_related("venue").order_by("starts_at", "pk")
    )
    return CourseState(title=course.title, place=place, fee=course.fee, capacity=course.capacity, meetings=meetings)


@dataclass(frozen=True)
class MeetingChange:
    """A meeting added (``before`` is None), removed (``after`` is None), or moved in time or
    place (both)."""

    before: MeetingState | None
    after: MeetingState | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "moved"

    @property
    def time_changed(self) -> bool:
        return self.before is not None and self.after is not None and (
            (self.before.starts_at, self.before.ends_at) != (self.after.starts_at, self.after.ends_at))

    @property
    def place_changed(self) -> bool:
        return self.before is not None and self.after is not None and self.before.place != self.after.place


@dataclass(frozen=True)
class CourseChanges:
    """The difference between two snapshots of a course, in what patrons see.

    ``title``, ``place``, ``fee`` and ``capacity`` are (before, after) pairs, or None when
    unchanged. Capacity is for staff only: it changes nothing for those already registered (it
    can never go below the seats taken), so it alone tells nobody.
    """

    title: tuple[str, str] | None = None
    place: tuple[Place, Place] | None = None
    fee: tuple[Decimal, Decimal] | None = None
    capacity: tuple[int, int] | None = None
    meetings: tuple[MeetingChange, ...] = field(default_factory=tuple)

    @property
    def tells_patrons(self) -> bool:
        """Registrants are told: their class's name, place, times or fee changed."""
        return bool(self.title or self.place or self.fee or self.meetings)

    @property
    def removed(self) -> list[MeetingState]:
        return [c.before for c in self.meetings if c.after is None]

    def digest(self) -> str:
        """A short fingerprint of this change, so a confirmation given for one change is not taken
        for another (someone else saved the course meanwhile)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:20]


def course_changes(before: CourseState, after: CourseState) -> CourseChanges:
    """What changed from ``before`` to ``after``. A meeting whose place changed only because the
    course's venue changed is not listed again (the venue change says it)."""
    course_moved = before.place != after.place
    old = {m.pk: m for m in before.meetings}
    new = {m.pk: m for m in after.meetings}
    changed: list[MeetingChange] = []
    for pk, was in old.items():
        now = new.get(pk)
        if now is None:
            changed.append(MeetingChange(before=was, after=None))
            continue
        times = (was.starts_at, was.ends_at) != (now.starts_at, now.ends_at)
        follows_course = course_moved and not was.own_venue and not now.own_venue
        if times or (was.place != now.place and not follows_course):
            changed.append(MeetingChange(before=was, after=now))
    changed += [MeetingChange(before=None, after=now) for pk, now in new.items() if pk not in old]
    changed.sort(key=lambda c: ((c.before or c.after).starts_at, (c.before or c.after).pk))

    def pair(a, b):
        return (a, b) if a != b else None

    return CourseChanges(
        title=pair(before.title, after.title), place=pair(before.place, after.place), fee=pair(before.fee, after.fee),
        capacity=pair(before.capacity, after.capacity), meetings=tuple(changed),
    )
