"""Pass the Buck report: the scholarship awards per semester and course (``fund_awards_by_course``)
and its CSV. Never the attendee: a course and counts only."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from core.money import ZERO

from ..deposit_report import csv_text, local_bounds
from .balance import K, cents, fund_entries, money_cell


@dataclass
class AwardLine:
    """Awards of one course (or a total): amounts as positive dollars."""

    semester_id: int | None = None
    semester: str = ""
    course_id: int | None = None
    course: str = ""
    awards: int = 0
    awarded: Decimal = ZERO
    returned_count: int = 0
    returned: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.awarded - self.returned

    @property
    def seats_funded(self) -> int:
        return self.awards - self.returned_count

    def add(self, other: "AwardLine") -> None:
        self.awards += other.awards
        self.awarded += other.awarded
        self.returned_count += other.returned_count
        self.returned += other.returned


@dataclass
class SemesterAwards:
    semester_id: int
    semester: str
    starts_on: dt.date
    courses: list[AwardLine] = field(default_factory=list)
    total: AwardLine = field(default_factory=AwardLine)


@dataclass
class AwardsReport:
    start: dt.date
    end: dt.date
    semesters: list[SemesterAwards]
    total: AwardLine


def fund_awards_by_course(*, start: dt.date, end: dt.date) -> AwardsReport:
    """The awards booked from ``start`` to ``end``, per semester (newest first) and course (by
    title), and how many of those awards were returned to the fund, whenever that happened. Two
    queries; no attendee is read."""
    lo, hi = local_bounds(start, end)
    course = "registration__course"
    awards = (
        fund_entries().filter(kind=K.AWARD, created_at__gte=lo, created_at__lt=hi).order_by()
        .values(f"{course}__semester_id", f"{course}__semester__name", f"{course}__semester__starts_on",
                f"{course}_id", f"{course}__title")
        .annotate(n=Count("pk"), total=Sum("amount"))
    )
    returns = (
        fund_entries().filter(kind=K.AWARD_RETURNED, registration__fund_entries__kind=K.AWARD,
                          registration__fund_entries__created_at__gte=lo,
                          registration__fund_entries__created_at__lt=hi)
        .order_by().values(f"{course}_id").annotate(n=Count("pk", distinct=True), total=Sum("amount"))
    )
    returned = {row[f"{course}_id"]: row for row in returns}
    semesters: dict[int, SemesterAwards] = {}
    grand = AwardLine()
    for row in awards:
        semester_id, course_id = row[f"{course}__semester_id"], row[f"{course}_id"]
        back = returned.get(course_id, {})
        line = AwardLine(
            semester_id=semester_id, semester=row[f"{course}__semester__name"], course_id=course_id,
            course=row[f"{course}__title"], awards=row["n"], awarded=-cents(row["total"]),
            returned_count=back.get("n", 0), returned=cents(back.get("total")),
        )
        group = semesters.setdefault(semester_id, SemesterAwards(
            semester_id=semester_id, semester=line.semester, starts_on=row[f"{course}__semester__starts_on"],
            total=AwardLine(semester_id=semester_id, semester=line.semester)))
        group.courses.append(line)
        group.total.add(line)
        grand.add(line)
    ordered = sorted(semesters.values(), key=lambda s: (s.starts_on, s.semester_id), reverse=True)
    for group in ordered:
        group.courses.sort(key=lambda c: (c.course.casefold(), c.course_id))
    return AwardsReport(start=start, end=end, semesters=ordered, total=grand)


AWARDS_HEADER = ["semester", "course", "row", "awards", "awarded", "returned_count", "returned", "net",
                 "seats_funded"]


def _award_cells(line: AwardLine) -> list[str]:
    return [str(line.awards), money_cell(line.awarded), str(line.returned_count), money_cell(line.returned),
            money_cell(line.net), str(line.seats_funded)]


def awards_csv_rows(report: AwardsReport) -> Iterator[list[str]]:
    """A header, a ``course`` row per course and a ``semester total`` row per semester, then the
    ``total`` row."""
    yield AWARDS_HEADER
    for group in report.semesters:
        for line in group.courses:
            yield [csv_text(group.semester), csv_text(line.course), "course", *_award_cells(line)]
        yield [csv_text(group.semester), "", "semester total", *_award_cells(group.total)]
    yield ["", "", "total", *_award_cells(report.total)]


# --- donors: thank-you letters and names for publication ----------------------------------------

