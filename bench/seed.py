"""The bench's data: the project's own demo semester (``seed_demo``), a ten-times copy of its classes
for the render row, and classes of its own for the registration rows (copies of an open demo class,
with their own capacity), all in the bench's database."""

import datetime as dt

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from classes.models import Course, Meeting
from classes.selectors import catalog_courses, semester_current


def seed_demo() -> None:
    call_command("seed_demo", stdout=_Null())
    call_command("demo_staff", "--password", STAFF_PASSWORD, stdout=_Null())


STAFF_USER = "staff"
STAFF_PASSWORD = "bench-Desk-password-7f3k2q"  # a throw-away database's throw-away login


class _Null:
    def write(self, *_):
        pass

    def flush(self):
        pass


def home_courses() -> list[Course]:
    return list(catalog_courses(semesters=[semester_current()]))


def _copy(course: Course, *, suffix: str, capacity: int | None = None, shift_days: int = 0) -> Course:
    meetings = list(course.meetings.all())
    copy = Course.objects.get(pk=course.pk)
    copy.pk = copy.id = None
    copy.slug = f"{course.slug}-{suffix}"[:160]
    copy.title = f"{course.title} ({suffix})"[:160]
    if capacity is not None:
        copy.capacity = capacity
        copy.minimum = 1
    copy.save()
    shift = dt.timedelta(days=shift_days)
    Meeting.objects.bulk_create([
        Meeting(course=copy, starts_at=m.starts_at + shift, ends_at=m.ends_at + shift, venue_id=m.venue_id)
        for m in meetings
    ])
    return copy


@transaction.atomic
def catalog_times(factor: int) -> list[int]:
    """Copies of every class on the home page, ``factor - 1`` times (a semester ``factor`` times as
    large); returns the new classes' ids (to remove them afterwards)."""
    ids = []
    for course in home_courses():
        for k in range(1, factor):
            ids.append(_copy(course, suffix=f"x{k}").pk)
    return ids


def remove(ids: list[int]) -> None:
    with transaction.atomic():
        Meeting.objects.filter(course_id__in=ids).delete()
        Course.objects.filter(pk__in=ids).delete()


def registrable_template() -> Course:
    """An open demo class whose registration closes last (the bench's classes are copies of it)."""
    now = timezone.now()
    courses = [c for c in home_courses() if c.status == Course.Status.OPEN and c.registration_closes_at
               and c.registration_closes_at > now + dt.timedelta(days=7) and c.fee > 0
               and not c.age_min and not c.age_max]
    if not courses:
        raise RuntimeError("no open adult class with a fee in the demo semester to copy")
    return max(courses, key=lambda c: c.registration_closes_at)


@transaction.atomic
def bench_courses(prefix: str, count: int, capacity: int) -> list[Course]:
    """``count`` open classes of ``capacity`` seats each, copies of one demo class."""
    template = registrable_template()
    return [_copy(template, suffix=f"{prefix}{i}", capacity=capacity) for i in range(count)]


def course_path(course: Course) -> str:
    return course.get_absolute_url()
