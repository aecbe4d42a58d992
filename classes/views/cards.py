"""A catalog page's list: light rows (no relations) and each course's card, rendered once per
course version and seat state, then taken from the cache.

A page reads its courses as rows (``selectors.catalog_rows``, then enrollment's seat counts of the
page's: no meetings, no relations) and asks the cache for each row's card at once. Only the cards it
does not find — a course changed (the catalog's version moved), its seat count moved, its cutoff
passed — are rendered, from full courses loaded in two queries (courses with their relations,
then their meetings). A card's key holds everything that card shows that can change without a
save (seats left, seats needed to run, registration closed, the semester's registration open,
whether it is in the visitor's cart), so a card is always exact; it carries no CSRF token and no
form (its button submits the page's one "add to cart" form, ``_cart_add_form.html``).
"""

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django.template.loader import get_template
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe

from .. import schedule, selectors
from ..catalog_cache import FRAGMENT_TIMEOUT
from ..models import Course, Semester


@dataclass
class CourseRow:
    """One course as a catalog page lists it (``card`` is its HTML)."""

    pk: int
    title: str
    status: str
    semester_id: int
    first_start: dt.datetime | None
    seats_left: int
    needed_to_run: int
    registration_closed: bool
    month: str  # "March 2027" (its first meeting's month), "" without meetings
    card: SafeString = SafeString("")

    def offers_registration(self, *, registration_open: bool, in_cart: bool) -> bool:
        """Its card has a Register (or Join the waitlist) button."""
        return (self.status in Course.TAKES_REGISTRATIONS and registration_open and not self.registration_closed
                and self.first_start is not None and not in_cart)


def course_rows(values: Sequence[dict], *, semesters: dict[int, Semester], now: dt.datetime) -> list[CourseRow]:
    """Rows from ``selectors.CATALOG_ROW_FIELDS`` with enrollment's ``seats_left`` and ``needed_to_run``."""
    rows = []
    for value in values:
        first = value["first_meeting_start"]
        closes = schedule.cutoff_at(first, semesters[value["semester_id"]].cutoff_days)
        rows.append(CourseRow(
            pk=value["pk"], title=value["title"], status=value["status"], semester_id=value["semester_id"],
            first_start=first, seats_left=value["seats_left"], needed_to_run=value["needed_to_run"],
            registration_closed=closes is not None and now >= closes,
            month=date_format(schedule.local(first), "F Y") if first else "",
        ))
    return rows


def _key(version: str, row: CourseRow, *, registration_open: bool, in_cart: bool) -> str:
    flags = f"{row.registration_closed:d}{registration_open:d}{in_cart:d}"
    return f"catalog:card:{version}:{row.pk}:{row.seats_left}:{row.needed_to_run}:{flags}"


def cards_fill(rows: list[CourseRow], *, version: str, semesters: Sequence[Semester], open_ids: Collection[int],
               cart_ids: Collection[int]) -> None:
    """Set each row's ``card``: from the cache, else rendered (and cached). ``open_ids``: the
    semesters whose registration is open."""
    keys = {row.pk: _key(version, row, registration_open=row.semester_id in open_ids, in_cart=row.pk in cart_ids)
            for row in rows}
    found = cache.get_many(list(keys.values())) if rows else {}
    missing = [row for row in rows if keys[row.pk] not in found]
    if missing:
        template = get_template("classes/_course_card.html")
        courses = selectors.catalog_courses(semesters=semesters).filter(pk__in=[row.pk for row in missing])
        by_pk = {course.pk: course for course in courses}
        fresh = {}
        for row in missing:
            course = by_pk.get(row.pk)
            if course is None:  # gone since the rows were read: left off this once
                found[keys[row.pk]] = ""
                continue
            # The card shows the seat state of its key (read with the rows), whatever changed since.
            course.seats_left, course.needed_to_run = row.seats_left, row.needed_to_run
            course.registration_closed = row.registration_closed
            fresh[keys[row.pk]] = template.render({
                "course": course, "registration_open": row.semester_id in open_ids, "in_cart": row.pk in cart_ids,
            })
        cache.set_many(fresh, FRAGMENT_TIMEOUT)
        found.update(fresh)
    for row in rows:
        row.card = mark_safe(found[keys[row.pk]])  # noqa: S308 — our own template's output
