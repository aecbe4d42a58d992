"""The demo's next semester: published, registration open, starting a week after the current
demo semester ends — so the demo shows the catalog's semester switcher and a search that
covers both. Loaded by ``manage.py seed_demo`` (``seed``) after the current semester, the same way
(idempotent, rows found by natural keys, dates relative to today).

Its row is the semester that holds its first course (``NEXT_COURSES[0]``), whatever its name:
run on a later day, the demo's semesters move along, and the next semester's new season name
may be the one the current semester had, or the current one's new name the one the next had.
``make_way`` frees the next semester's slug for the current one before either is saved.
"""

import datetime as dt

from django.utils import timezone
from django.utils.text import slugify

from classes.models import Course, Semester

from . import courses as base
from .data import COURSES
from .data import CourseSpec as C

#: Days between the current demo semester's last day and the next one's first.
BREAK_DAYS = 7
#: The next semester's length in days (twelve weeks).
LENGTH_DAYS = 84
#: Registration for the next semester opened this many days before the demo's day, at 9:00.
REGISTRATION_OPENED = -2

#: ``day`` is the first meeting's offset from the next semester's first day.
NEXT_COURSES = [
    C("spring-vegetable-gardening", "Spring Vegetable Gardening", "home-garden", "beth", "cottonwood-senior-center",
      3, "10:00", 120, 16, 6,
      "Plan beds, start seeds indoors and choose varieties that stand up to Kansas wind and heat.",
      weeks=3, supplies="20", fill="few", bring="A notebook; seeds and starter pots are provided."),
    C("sourdough-next-steps", "Sourdough: Next Steps", "cooking-food", "ruth", "prairie-community-kitchen",
      9, "18:00", 150, 10, 5,
      "Rye, whole wheat and a seeded loaf, for bakers who already keep a starter alive.",
      weeks=2, materials="30", supplies="40", price="60", fill="few", bring="An apron and your starter."),
    C("watercolor-wildflowers", "Watercolor Wildflowers", "arts-crafts", "janelle", "riverbend-arts-center",
      15, "18:30", 120, 12, 6,
      "Paint coneflowers, sunflowers and prairie grasses from life, one relaxed evening a week.",
      weeks=3, supplies="36", fill="few"),
    C("spreadsheets-made-simple", "Spreadsheets Made Simple", "technology", "kevin", "technology-center",
      11, "10:00", 90, 12, 4,
      "Rows, columns, sums and a household budget you can keep, in free spreadsheet software.",
      weeks=2, price="free", fill="few"),
    C("tai-chi-for-balance", "Tai Chi for Balance", "health-wellness", "priya", "prescott-room",
      5, "09:30", 75, 20, 6,
      "Slow, standing movements that build balance and leg strength. Chairs are available for every form.",
      weeks=6, fill="few", bring="Comfortable clothes and flat shoes."),
    C("conversational-spanish-2", "Conversational Spanish II", "language-culture", "carla", "prescott-room",
      17, "18:30", 90, 16, 6,
      "Past tense, travel and everyday errands, for those who finished a first course or remember some school Spanish.",
      weeks=6, supplies="12", fill="few"),
    C("family-robot-day", "Family Robot Day", "kids-family", "nate", "story-room",
      20, "13:00", 120, 20, 6,
      "Grown-ups and kids build and program a small robot together, then race it across the Story Room.",
      audience="family", ages=(7, None), materials="40", fill="few",
      bring="One grown-up for every two children."),
    C("prairie-town-histories", "Prairie Town Histories", "history-community", "walter", "prescott-room",
      26, "14:00", 90, 40, 8,
      "The railroad, the mills and the cattle drives that made our towns, told with maps and photographs.",
      price="free", fill="few"),
]


def _slug(name: str) -> str:
    return slugify(name.replace("–", " "))


def _find() -> Semester | None:
    """The demo's next semester: the one holding its first course (a slug the current demo
    semester has not; some others are the same class again, as in a real program)."""
    return (Semester.objects.filter(courses__slug=NEXT_COURSES[0].slug)
            .exclude(courses__slug=COURSES[0].slug).first())


def make_way() -> None:
    """Give the next semester a slug no season name takes, until ``seed_next_semester`` names
    it (same transaction), so the current semester may take the slug it had."""
    semester = _find()
    if semester is not None:
        Semester.objects.filter(pk=semester.pk).update(slug=f"demo-next-semester-{semester.pk}")


def seed_next_semester(current: Semester, categories: dict, venues: dict, instructors: dict, *, now: dt.datetime,
                       options) -> tuple[Semester, list[Course]]:
    """Load or refresh the next semester and its courses (a few registrations each)."""
    today = timezone.localdate(now)
    starts_on = current.ends_on + dt.timedelta(days=BREAK_DAYS)
    ends_on = starts_on + dt.timedelta(days=LENGTH_DAYS)
    name = base.semester_name(starts_on + (ends_on - starts_on) / 2)
    semester = _find() or Semester.objects.filter(slug=_slug(name)).first() or Semester()
    for field, value in {
        "name": name,
        "slug": _slug(name),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "registration_opens_at": base.local_at(today + dt.timedelta(days=REGISTRATION_OPENED), "09:00"),
        "cutoff_days": current.cutoff_days,
        "is_published": True,
    }.items():
        setattr(semester, field, value)
    base._save(semester)
    courses = base.seed_courses(semester, categories, venues, instructors, today=starts_on, now=now,
                                options=options, specs=NEXT_COURSES, name_offset=len(COURSES))
    return semester, courses
