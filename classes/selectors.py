"""Reads of the classes app: the semesters patrons see, the catalog, and schedule clashes."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, Count, Exists, F, IntegerField, Min, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from . import schedule
from .models import Category, Course, Meeting, Semester, Venue

PUBLIC_STATUSES = [Course.Status.OPEN, Course.Status.RUNNING, Course.Status.COMPLETED, Course.Status.CANCELLED]

TIME_OF_DAY = {
    # name: (label, first hour, last hour) in local time, by the meeting's start
    "morning": ("Morning (before noon)", 0, 11),
    "afternoon": ("Afternoon (noon–5 pm)", 12, 16),
    "evening": ("Evening (5 pm and later)", 17, 23),
}
WEEKDAYS = [(1, "Monday"), (2, "Tuesday"), (3, "Wednesday"), (4, "Thursday"), (5, "Friday"), (6, "Saturday"), (7, "Sunday")]


def semesters_visible(*, now: dt.datetime | None = None) -> list[Semester]:
    """The semesters of the public catalog: every published semester not yet over (its last day
    is today or later) — so registration for its classes is open, or still to come, or its
    classes still run — soonest first: the current one (running now, or starting soonest), then
    the next ones. When none is, the latest published one, so that between seasons the catalog
    shows the semester just ended rather than nothing. Drafts (unpublished) never. One query
    (two when none is current)."""
    today = schedule.local(now or timezone.now()).date()
    published = Semester.objects.filter(is_published=True)
    visible = list(published.filter(ends_on__gte=today).order_by("starts_on", "pk"))
    return visible or list(published.order_by("-ends_on", "-pk")[:1])


def semester_current(*, now: dt.datetime | None = None) -> Semester | None:
    """The semester patrons see first: the first of ``semesters_visible``."""
    visible = semesters_visible(now=now)
    return visible[0] if visible else None


def catalog_courses(*, semesters: Sequence[Semester]) -> QuerySet[Course]:
    """Every public course of ``semesters`` with what a catalog card shows, in a fixed number of
    queries (courses with their relations, then all their meetings), by first meeting."""
    meetings = Meeting.objects.select_related("venue").order_by("starts_at")
    return (
        Course.objects.filter(semester__in=[s.pk for s in semesters], status__in=PUBLIC_STATUSES)
        .select_related("semester", "category", "venue", "instructor")
        .prefetch_related(Prefetch("meetings", queryset=meetings))
        .annotate(first_meeting_start=Min("meetings__starts_at"))
        # Courses without meetings yet go last on every database (SQLite sorts NULL first).
        .order_by(F("first_meeting_start").asc(nulls_last=True), "title")
    )


def catalog_rows(*, semesters: Sequence[Semester]) -> QuerySet[Course]:
    """The public courses of ``semesters`` without their relations (a catalog page's list reads
    only ``CATALOG_ROW_FIELDS`` and takes each card from the cache), in the order a page shows
    them: by semester (as ``semesters_visible``), then classes still to come by first meeting,
    then those already held."""
    held_last = Case(When(status=Course.Status.COMPLETED, then=Value(1)), default=Value(0),
                     output_field=IntegerField())
    return (
        Course.objects.filter(semester__in=[s.pk for s in semesters], status__in=PUBLIC_STATUSES)
        .annotate(first_meeting_start=Min("meetings__starts_at"))
        .order_by("semester__starts_on", "semester_id", held_last,
                  F("first_meeting_start").asc(nulls_last=True), "title", "pk")
    )


CATALOG_ROW_FIELDS = ("pk", "title", "status", "semester_id", "first_meeting_start")


@dataclass(frozen=True)
class CatalogFilters:
    q: str = ""
    category: str = ""
    audience: str = ""
    weekday: int | None = None
    time_of_day: str = ""
    venue: str = ""
    has_seats: bool = False
    #: A semester's slug, ``ALL_SEMESTERS``, or "" (the catalog's default: see ``classes.views.catalog``).
    semester: str = ""


ALL_SEMESTERS = "all"


def catalog_filter(
    courses: QuerySet[Course], filters: CatalogFilters, *, semesters: Sequence[Semester],
    now: dt.datetime | None = None,
) -> QuerySet[Course]:
    """Narrow a catalog queryset of the courses of ``semesters`` (which semesters is the
    caller's choice; ``filters.semester`` is not read here).

    ``has_seats`` means "a patron can still register": the course takes registrations (open, or
    running before its cutoff), has seats left, and its week-out cutoff (its own semester's) has
    not passed. It needs the ``seats_left`` annotation of
    ``enrollment.selectors.course_seats_annotate``.
    """
    if filters.q:
        words = filters.q.split()[:8]
        for word in words:
            courses = courses.filter(
                Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(category__name__icontains=word)
                | Q(instructor__first_name__icontains=word)
                | Q(instructor__last_name__icontains=word)
                | Q(venue__name__icontains=word)
            )
    if filters.category:
        courses = courses.filter(category__slug=filters.category)
    if filters.audience:
        courses = courses.filter(audience=filters.audience)
    if filters.venue:
        courses = courses.filter(venue__slug=filters.venue)
    if filters.weekday:
        courses = courses.filter(
            Exists(Meeting.objects.filter(course=OuterRef("pk"), starts_at__iso_week_day=filters.weekday))
        )
    if filters.time_of_day in TIME_OF_DAY:
        _, first, last = TIME_OF_DAY[filters.time_of_day]
        courses = courses.filter(
            Exists(
                Meeting.objects.filter(course=OuterRef("pk"), starts_at__hour__gte=first, starts_at__hour__lte=last)
            )
        )
    if filters.has_seats:
        # Registration is open while today < (first meeting's local date − cutoff days), i.e. while
        # the first meeting starts on or after local midnight of today + cutoff days + 1.
        today = schedule.local(now or timezone.now()).date()
        before_cutoff = Q(pk__in=[])
        for semester in semesters:
            first_open_day = schedule.local_midnight(today + dt.timedelta(days=semester.cutoff_days + 1))
            before_cutoff |= Q(semester_id=semester.pk, first_meeting_start__gte=first_open_day)
        courses = courses.filter(before_cutoff, status__in=Course.TAKES_REGISTRATIONS, seats_left__gt=0)
    return courses


def catalog_categories(*, semesters: Sequence[Semester]) -> list[Category]:
    """Categories that have public courses in ``semesters``, each with ``course_count`` (in all
    of them) and ``counts`` (semester id → its courses in that semester). One query."""
    public = Q(courses__status__in=PUBLIC_STATUSES)
    per_semester = {
        f"n_{s.pk}": Count("courses", filter=public & Q(courses__semester_id=s.pk)) for s in semesters
    }
    categories = list(
        Category.objects.annotate(
            course_count=Count("courses", filter=public & Q(courses__semester__in=[s.pk for s in semesters])),
            **per_semester,
        ).filter(course_count__gt=0)
    )
    for category in categories:
        category.counts = {s.pk: getattr(category, f"n_{s.pk}") for s in semesters}
    return categories


def catalog_venues(*, semesters: Sequence[Semester]) -> QuerySet[Venue]:
    return Venue.objects.filter(
        courses__semester__in=[s.pk for s in semesters], courses__status__in=PUBLIC_STATUSES
    ).distinct().order_by("name")


@dataclass(frozen=True)
class MeetingDraft:
    """A meeting as submitted (saved or not), for clash checks before anything is written."""

    key: object  # whatever identifies the submitted row to the caller (e.g. the form)
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: Venue | None
    pk: int | None = None


def _overlapping(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(starts_at__lt=end, ends_at__gt=start)


def meeting_problems(*, course: Course, drafts: list[MeetingDraft]) -> list[tuple[object, str, str]]:
    """Every rule across rows that a course's meetings break, as (key, field, message).

    Checked: inside the semester; two meetings of this course overlapping; a library room booked
    by another (not cancelled) course at an overlapping time; the instructor teaching another
    course at an overlapping time. Meetings of ``course`` already saved are ignored, since
    ``drafts`` replace them.
    """
    problems: list[tuple[object, str, str]] = []
    # A course being built in a form may not have a (valid) semester yet: skip that check then.
    semester = course.semester if course.semester_id else None
    live = ~Q(course__status=Course.Status.CANCELLED)
    others = Meeting.objects.filter(live).select_related("course", "course__venue", "venue")
    if course.pk:
        others = others.exclude(course_id=course.pk)
    for i, draft in enumerate(drafts):
        start_day = schedule.local(draft.starts_at).date()
        end_day = schedule.local(draft.ends_at).date()
        if semester and not (semester.starts_on <= start_day and end_day <= semester.ends_on):
            problems.append(
                (draft.key, "starts_at",
                 f"This meeting is outside {semester.name} ({semester.starts_on:%b %-d} – {semester.ends_on:%b %-d, %Y}).")
            )
        for other in drafts[:i]:
            if draft.starts_at < other.ends_at and other.starts_at < draft.ends_at:
                problems.append((draft.key, "starts_at", "This meeting overlaps another meeting of the same course."))
                break
        venue = draft.venue or (course.venue if course.venue_id else None)
        window = _overlapping(draft.starts_at, draft.ends_at)
        if venue is not None and venue.is_library_room:
            same_room = Q(venue=venue) | Q(venue__isnull=True, course__venue=venue)
            clash = others.filter(window & same_room).order_by("starts_at").first()
            if clash:
                problems.append(
                    (draft.key, "starts_at",
                     f"{venue} is already booked then by “{clash.course}” ({clash}).")
                )
        if course.instructor_id:
            clash = others.filter(window, course__instructor_id=course.instructor_id).order_by("starts_at").first()
            if clash:
                problems.append(
                    (draft.key, "starts_at",
                     f"{course.instructor} is teaching “{clash.course}” then ({clash}).")
                )
    return problems
