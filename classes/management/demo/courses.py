"""Turn the demo's tables (``program``, ``data``) into rows: the site, the semester, categories,
venues, instructors, and courses with their meetings, fee, status and registrations.

Idempotent: every row is found by a natural key (slugs, the instructor's e-mail, a course's slug in
its semester) and updated in place, and a course's meetings are rewritten in place rather than
added, so running it twice leaves the same row counts. Dates are relative to today.
"""

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone
from django.utils.text import slugify

from classes.models import Category, Course, Instructor, Meeting, Semester, Venue
from classes.selectors import MeetingDraft, meeting_problems
from core.models import SiteOptions
from core.money import round_cents
from enrollment.models import CourseDecision, Registration
from finance.pricing import course_budget

from . import data as demo_data
from . import program
from .orders import seed_registrations

FIVE = Decimal("5")

# How many confirmed registrations a course gets, from its capacity and minimum.
FILL = {
    "none": lambda capacity, minimum: 0,
    "few": lambda capacity, minimum: minimum // 2,
    "low": lambda capacity, minimum: minimum - 1,  # one short of running
    "min": lambda capacity, minimum: minimum,
    "good": lambda capacity, minimum: minimum + (capacity - minimum) // 2,
    "nearly": lambda capacity, minimum: capacity - 1,
    "full": lambda capacity, minimum: capacity,
}


def local_at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def catalog_fee(suggested: Decimal) -> Decimal:
    """The suggested fee as a catalog would print it: up to the next $5 (a $27 budget is listed
    at $30, a $3 one at $5)."""
    return round_cents((suggested / FIVE).to_integral_value(rounding=ROUND_CEILING) * FIVE)


def semester_name(middle: dt.date) -> str:
    """A season name for a semester whose middle day is ``middle`` ("Winter 2026–27")."""
    if middle.month in (12, 1, 2):
        first = middle.year if middle.month == 12 else middle.year - 1
        return f"Winter {first}–{(first + 1) % 100:02d}"
    season = "Spring" if middle.month <= 5 else "Summer" if middle.month <= 8 else "Fall"
    return f"{season} {middle.year}"


def _save(obj):
    """Validate fields and the model's own rules (``clean``), then save. Uniqueness and check
    constraints are left to the database, which enforces them anyway: ``full_clean`` would ask
    it first with a query per constraint and per foreign key, and make seeding several times slower."""
    obj.clean_fields(exclude=[f.name for f in obj._meta.concrete_fields if f.is_relation])
    obj.clean()
    obj.save()
    return obj


def _upsert(model, lookup: dict, values: dict):
    obj = model.objects.filter(**lookup).first() or model(**lookup)
    for name, value in values.items():
        setattr(obj, name, value)
    return _save(obj)


def seed_site() -> SiteOptions:
    options = SiteOptions.current()
    for name, value in program.SITE.items():
        setattr(options, name, value)
    return _save(options)


def seed_semester(today: dt.date) -> Semester:
    starts_on = today + dt.timedelta(days=program.SEMESTER_STARTS)
    ends_on = today + dt.timedelta(days=program.SEMESTER_ENDS)
    name = semester_name(starts_on + (ends_on - starts_on) / 2)
    slug = slugify(name.replace("–", " "))
    semester = Semester.objects.filter(slug=slug).first()
    if semester is None:
        # Seeded in an earlier season: move that semester (found by its first demo course) along.
        first = demo_data.COURSES[0]
        semester = (
            Semester.objects.filter(
                courses__slug=first.slug, courses__instructor__email=_instructor_email(first.instructor)
            ).first()
            or Semester()
        )
    for field, value in {
        "name": name,
        "slug": slug,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "registration_opens_at": local_at(today + dt.timedelta(days=program.REGISTRATION_OPENED), "09:00"),
        "cutoff_days": program.CUTOFF_DAYS,
        "is_published": True,
    }.items():
        setattr(semester, field, value)
    return _save(semester)


def _instructor_email(key: str) -> str:
    return next(spec.email for spec in program.INSTRUCTORS if spec.key == key)


def seed_people_and_places() -> tuple[dict, dict, dict]:
    categories = {
        slug: _upsert(Category, {"slug": slug}, {"name": name, "position": position, "description": description})
        for slug, name, position, description in program.CATEGORIES
    }
    venues = {}
    for spec in program.VENUES:
        venues[spec.slug] = _upsert(
            Venue,
            {"slug": spec.slug},
            {
                "name": spec.name,
                "kind": spec.kind,
                "street_address": spec.street_address,
                "city": "Salina",
                "state": "KS",
                "postal_code": "67401",
                "latitude": spec.latitude,
                "longitude": spec.longitude,
                "capacity": spec.capacity,
                "accessibility_notes": spec.accessibility_notes,
                "parking_notes": spec.parking_notes,
                "room_fee_terms": spec.room_fee_terms,
                "room_fee_rate": spec.room_fee_rate,
                "contact": spec.contact,
            },
        )
    instructors = {}
    for spec in program.INSTRUCTORS:
        instructors[spec.key] = _upsert(
            Instructor,
            {"email": spec.email},
            {
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "phone": spec.phone,
                "bio": spec.bio,
                "pay_basis": spec.pay_basis,
                "hourly_rate": spec.hourly_rate,
                "is_library_staff": spec.is_library_staff,
                "active": True,
            },
        )
    return categories, venues, instructors


def _set_meetings(course: Course, spec: demo_data.CourseSpec, today: dt.date, venues: dict) -> list[Meeting]:
    """Rewrite the course's meetings in place (same rows, new times), adding or deleting the
    difference, so ids stay stable and a re-run adds nothing."""
    wanted = []
    for week in range(spec.weeks):
        starts_at = local_at(today + dt.timedelta(days=spec.day + 7 * week), spec.time)
        override = spec.venue_overrides.get(week)
        wanted.append(
            (starts_at, starts_at + dt.timedelta(minutes=spec.minutes), venues[override] if override else None)
        )
    existing = list(course.meetings.order_by("starts_at", "pk"))
    for meeting in existing[len(wanted) :]:
        meeting.delete()
    meetings = []
    for i, (starts_at, ends_at, venue) in enumerate(wanted):
        meeting = existing[i] if i < len(existing) else Meeting(course=course)
        meeting.starts_at, meeting.ends_at, meeting.venue = starts_at, ends_at, venue
        meeting.save()
        meetings.append(meeting)
    return meetings


def _course_status(spec, course: Course, meetings: list[Meeting], confirmed: int, now: dt.datetime) -> str:
    if spec.draft:
        return Course.Status.DRAFT
    if meetings[-1].ends_at <= now:
        return Course.Status.COMPLETED  # held before the demo began: history
    decision = CourseDecision.objects.filter(course=course).first() if course.pk else None
    if decision is not None:
        return decision.outcome  # decided by an earlier week-out run: keep it
    if meetings[0].starts_at <= now:
        # Under way when the demo begins: decided a week before its first meeting, as in a real
        # semester (history: nobody is sent a reminder or a cancellation about the past).
        return Course.Status.RUNNING if confirmed >= course.minimum else Course.Status.CANCELLED
    # Open, and past its cutoff or not: past-cutoff courses wait for the week-out run, which
    # `make run` starts right after loading (so the demo shows decisions, the call list, mail).
    return Course.Status.OPEN


def _seed_history_decision(course: Course, confirmed: int, now: dt.datetime) -> None:
    """The week-out decision of a course already under way when the demo begins (made at its
    cutoff), so the week-out run leaves it alone and the staff pages show how it was decided."""
    if course.status not in (Course.Status.RUNNING, Course.Status.CANCELLED) or hasattr(course, "decision"):
        return
    at = min(course.registration_closes_at, now)
    CourseDecision.objects.get_or_create(course=course, defaults={
        "outcome": course.status, "decided_at": at, "completed_at": at, "confirmed_count": confirmed,
        "minimum": course.minimum, "automatic": True,
        "reason": f"week-out run: {confirmed} confirmed, minimum {course.minimum}",
    })


def seed_courses(semester, categories, venues, instructors, *, today, now, options, specs=None,
                 name_offset: int = 0) -> list[Course]:
    """The courses of ``specs`` (the demo semester's by default), dated from ``today``;
    ``name_offset`` varies their attendees' names from those of other specs."""
    courses = []
    for index, spec in enumerate(specs or demo_data.COURSES, start=name_offset):
        course = Course.objects.filter(semester=semester, slug=spec.slug).first() or Course(
            semester=semester, slug=spec.slug, fee=Decimal("0.00")
        )
        course.semester = semester  # the instance in hand, not another query
        multi = spec.weeks > 1
        for field, value in {
            "title": spec.title,
            "category": categories[spec.category],
            "audience": spec.audience,
            "age_min": spec.ages[0],
            "age_max": spec.ages[1],
            "description": spec.description,
            "what_to_bring": spec.bring,
            "instructor": instructors[spec.instructor],
            "venue": venues[spec.venue],
            "capacity": spec.capacity,
            "minimum": spec.minimum,
            "staff_hours": Decimal("2.00") if multi else Decimal("1.00"),
            "materials_cost": Decimal(spec.materials),
            "supplies_cost": Decimal(spec.supplies),
        }.items():
            setattr(course, field, value)
        if course.pk is None:
            course.status = Course.Status.DRAFT  # until its meetings exist
            _save(course)
        meetings = _set_meetings(course, spec, today, venues)

        if spec.price == "free":
            course.fee = Decimal("0.00")
        elif spec.price == "budget":
            course.fee = catalog_fee(course_budget(course, options=options).suggested_fee)
        else:
            course.fee = round_cents(Decimal(spec.price))
        count = FILL[spec.fill](spec.capacity, spec.minimum)
        course.status = _course_status(spec, course, meetings, count, now)
        _save(course)
        registration_status = (
            Registration.Status.CANCELLED if course.status == Course.Status.CANCELLED else Registration.Status.CONFIRMED
        )
        seed_registrations(course, index, count, registration_status)
        _seed_history_decision(course, count, now)
        courses.append(course)
    return courses


def check_schedule(courses: list[Course]) -> list[str]:
    """Every rule the seeded schedule breaks (empty when it is sound)."""
    messages = []
    for course in courses:
        drafts = [
            MeetingDraft(key=m.pk, starts_at=m.starts_at, ends_at=m.ends_at, venue=m.venue, pk=m.pk)
            for m in course.meetings.select_related("venue").order_by("starts_at")
        ]
        messages += [f"{course.slug}: {message}" for _, _, message in meeting_problems(course=course, drafts=drafts)]
    return messages
