"""Writes of the classes app. Each use case is one function in one transaction."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from . import schedule
from .models import Course, Meeting, Semester
from .selectors import MeetingDraft, meeting_problems


class ClassesError(Exception):
    """Base error of the classes app."""


class ScheduleConflict(ClassesError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class CopyResult:
    copied: list[Course] = field(default_factory=list)
    skipped: list[tuple[Course, str]] = field(default_factory=list)


def _unique_slug(semester: Semester, base: str) -> str:
    base = slugify(base)[:150] or "course"
    slug, n = base, 2
    while Course.objects.filter(semester=semester, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def course_copy_to_semester(*, course: Course, semester: Semester) -> Course:
    """Re-run ``course`` in ``semester`` as a draft: same details, its meetings moved to the same
    weekdays and local times, in the same week of the semester.

    Raises :class:`ScheduleConflict` (and writes nothing) when a moved meeting would fall outside
    the semester, double-book a library room or clash with the instructor's other classes.
    """
    source_meetings = list(course.meetings.order_by("starts_at"))
    moved = [
        (
            schedule.shift_to_weekday_in(m.starts_at, course.semester.starts_on, semester.starts_on),
            m,
        )
        for m in source_meetings
    ]
    drafts = [
        MeetingDraft(key=i, starts_at=start, ends_at=start + (m.ends_at - m.starts_at), venue=m.venue)
        for i, (start, m) in enumerate(moved)
    ]
    with transaction.atomic():
        copy = Course(
            semester=semester,
            title=course.title,
            slug=_unique_slug(semester, course.slug),
            category=course.category,
            audience=course.audience,
            age_min=course.age_min,
            age_max=course.age_max,
            description=course.description,
            what_to_bring=course.what_to_bring,
            instructor=course.instructor,
            venue=course.venue,
            capacity=course.capacity,
            minimum=course.minimum,
            fee=course.fee,
            status=Course.Status.DRAFT,
            staff_hours=course.staff_hours,
            materials_cost=course.materials_cost,
            supplies_cost=course.supplies_cost,
        )
        problems = meeting_problems(course=copy, drafts=drafts)
        if problems:
            raise ScheduleConflict([message for _, _, message in problems])
        copy.full_clean()
        copy.save()
        Meeting.objects.bulk_create(
            Meeting(course=copy, starts_at=d.starts_at, ends_at=d.ends_at, venue=d.venue) for d in drafts
        )
    return copy


def courses_copy_to_semester(*, courses, semester: Semester) -> CopyResult:
    """Copy several courses; each copy is its own transaction, so one clash skips only that one.

    A course whose copy fails model validation (say its venue was made smaller than its
    capacity since it last ran) is skipped too, with the validation messages as the reason.
    """
    result = CopyResult()
    for course in courses:
        try:
            result.copied.append(course_copy_to_semester(course=course, semester=semester))
        except ScheduleConflict as exc:
            result.skipped.append((course, str(exc)))
        except ValidationError as exc:
            result.skipped.append((course, "; ".join(exc.messages)))
    return result


def course_revision_bump(*, course_id: int) -> int:
    """Count one more change patrons are told about (``Course.revision``, the calendar's SEQUENCE)
    and return the new revision. Call inside the transaction that saves the change."""
    from django.db.models import F

    Course.objects.filter(pk=course_id).update(revision=F("revision") + 1)
    return Course.objects.filter(pk=course_id).values_list("revision", flat=True).get()
