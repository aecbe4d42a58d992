"""Pass the Buck reports: reads of the fund's ledger and of the donations, for the staff pages
under /staff/money/fund/ (``finance.fund_views``). Nothing here writes.

- ``fund_balance_over_time``: the balance at the start of a date range, then per month (or per
  day) the donations, awards, returns and adjustments booked in the ledger and the balance at the
  end of the period. Amounts keep the ledger's sign (awards are negative), so each period's
  ``opening + donations + awards + returns + adjustments == closing``; the entries booked after
  the range give ``current``, which always equals ``fund_balance()``.
- ``fund_donations_by_month``: succeeded ``Donation`` records per month and method (cash, check,
  card). These are the gifts with a donor behind them (desk and donation page); the balance
  table's "donations" column is the ledger's, which counts every donation entry.
- ``fund_awards_by_course``: the scholarship awards made in the range, per semester and course,
  with how many of them went back to the fund since (cancelled registrations or courses), the net
  paid and the seats funded (awards not returned). Never the attendee: a course and counts only.
- ``fund_donors``: the donors of the range for thank-you letters, one line per donor (the same
  name with the same e-mail, or without one the same postal address): gifts, total, first and
  last gift, dedications, receipt numbers, and ``anonymous`` when any gift of theirs asked for it.
  The letters are written by staff, so the list keeps the name and address of an anonymous donor
  (the thank-you is theirs) and flags it "anonymous: do not publish".
- ``fund_names_for_publication``: the names a newsletter or a donor wall may print: every donor
  of the range *except* those who asked for anonymity on any gift in it — they are left off
  entirely — with no amounts.
- ``fund_ledger``: every entry, newest first, with the balance after it.

Days and months are the program's local ones (``TIME_ZONE``, America/Chicago). Money is
``Decimal``. Each function runs a fixed number of queries whatever the number of entries,
donations or courses (the tests check it). The ``*_csv_rows`` functions are the CSV exports;
text cells go through ``reports._text`` so a spreadsheet never runs one as a formula.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DateField, F, Q, Sum, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from core.money import CENT, ZERO

from .models import Donation, Fund, FundEntry
from .reports import _bounds as local_bounds
from .reports import _text as csv_text

K = FundEntry.Kind
M = Donation.Method

MONTH, DAY = "month", "day"
#: The longest range shown day by day, and month by month.
MAX_DAYS = 366
MAX_MONTHS = 120


def _cents(value) -> Decimal:
    return (value or ZERO).quantize(CENT)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _entries():
    """The ledger of Pass the Buck (read without ``Fund.current()``, which may write)."""
    return FundEntry.objects.filter(fund__name=Fund.PASS_THE_BUCK)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_between(start: dt.date, end: dt.date) -> int:
    """How many calendar months the range touches (Jan 31 – Feb 1 is two)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _periods(start: dt.date, end: dt.date, by: str) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(key, first day, last day) of every day or calendar month in the range; the first and last
    months are cut to the range."""
    if end < start:
        raise ValueError("end before start")
    periods = []
    if by == DAY:
        day = start
        while day <= end:
            periods.append((day, day, day))
            day += dt.timedelta(days=1)
    elif by == MONTH:
        month = _month_start(start)
        while month <= end:
            following = _next_month(month)
            periods.append((month, max(month, start), min(following - dt.timedelta(days=1), end)))
            month = following
    else:
        raise ValueError(f"by must be {MONTH!r} or {DAY!r}")
    return periods


def _trunc(field_name: str, by: str):
    tz = timezone.get_current_timezone()
    if by == DAY:
        return TruncDate(field_name, tzinfo=tz)
    return TruncMonth(field_name, output_field=DateField(), tzinfo=tz)


def _as_date(value) -> dt.date:
    """A truncated period as a date (backends hand back a date, or a datetime at local midnight)."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- the balance over time --------------------------------------------------------------------

@dataclass
class BalancePeriod:
    """One month or day of the ledger. Amounts are signed as in the ledger (awards ≤ 0)."""

    key: dt.date
    first_day: dt.date
    last_day: dt.date
    opening: Decimal = ZERO
    donations: Decimal = ZERO
    awards: Decimal = ZERO
    returns: Decimal = ZERO
    adjustments: Decimal = ZERO
    entries: int = 0
    partial: bool = False  # a month the range cuts (it starts or ends inside it)

    @property
    def change(self) -> Decimal:
        return self.donations + self.awards + self.returns + self.adjustments

    @property
    def closing(self) -> Decimal:
        return self.opening + self.change


@dataclass
class BalanceReport:
    start: dt.date
    end: dt.date
    by: str
    opening: Decimal  # the balance before the range
    periods: list[BalancePeriod]
    total: BalancePeriod  # the whole range: opening, the sums, closing
    after: Decimal  # booked after the range

    @property
    def closing(self) -> Decimal:
        return self.total.closing

    @property
    def current(self) -> Decimal:
        """The balance now (the sum of every entry): ``fund_balance()``."""
        return self.closing + self.after


_KIND_FIELD = {K.DONATION: "donations", K.AWARD: "awards", K.AWARD_RETURNED: "returns", K.ADJUSTMENT: "adjustments"}


def fund_balance_over_time(*, start: dt.date, end: dt.date, by: str = MONTH) -> BalanceReport:
    """The fund's running balance from ``start`` to ``end`` (local days, both included) by month
    or by day: every period of the range is listed, an empty one too. Two queries."""
    periods = _periods(start, end, by)
    lo, hi = local_bounds(start, end)
    edges = _entries().aggregate(before=Sum("amount", filter=Q(created_at__lt=lo)),
                                 after=Sum("amount", filter=Q(created_at__gte=hi)))
    rows = (
        _entries().filter(created_at__gte=lo, created_at__lt=hi).annotate(period=_trunc("created_at", by))
        .order_by().values("period", "kind").annotate(total=Sum("amount"), n=Count("pk"))
    )
    lines = {key: BalancePeriod(key=key, first_day=first, last_day=last,
                                partial=by == MONTH and (first != key or last != _next_month(key) - dt.timedelta(days=1)))
             for key, first, last in periods}
    total = BalancePeriod(key=start, first_day=start, last_day=end, opening=_cents(edges["before"]))
    for row in rows:
        line = lines[_as_date(row["period"])]
        name = _KIND_FIELD[row["kind"]]
        amount = _cents(row["total"])
        setattr(line, name, getattr(line, name) + amount)
        setattr(total, name, getattr(total, name) + amount)
        line.entries += row["n"]
        total.entries += row["n"]
    running = total.opening
    ordered = [lines[key] for key, _, _ in periods]
    for line in ordered:
        line.opening = running
        running = line.closing
    return BalanceReport(start=start, end=end, by=by, opening=total.opening, periods=ordered, total=total,
                         after=_cents(edges["after"]))


BALANCE_HEADER = ["from", "to", "opening", "donations", "awards", "awards_returned", "adjustments", "closing",
                  "entries"]


def balance_csv_rows(report: BalanceReport) -> Iterator[list[str]]:
    """A header, one row per period, then the range's ``total`` row (amounts signed as in the ledger)."""
    yield BALANCE_HEADER
    for line in [*report.periods, report.total]:
        yield [line.first_day.isoformat(), line.last_day.isoformat(), _money(line.opening), _money(line.donations),
               _money(line.awards), _money(line.returns), _money(line.adjustments), _money(line.closing),
               str(line.entries)]


# --- donations by month and method ----------------------------------------------------------------

@dataclass
class MethodTotals:
    cash: Decimal = ZERO
    cash_count: int = 0
    check: Decimal = ZERO
    check_count: int = 0
    card: Decimal = ZERO
    card_count: int = 0

    @property
    def total(self) -> Decimal:
        return self.cash + self.check + self.card

    @property
    def count(self) -> int:
        return self.cash_count + self.check_count + self.card_count

    def add(self, method: str, amount: Decimal, count: int) -> None:
        setattr(self, method, getattr(self, method) + amount)
        setattr(self, f"{method}_count", getattr(self, f"{method}_count") + count)


@dataclass
class DonationMonth(MethodTotals):
    month: dt.date | None = None


@dataclass
class DonationsReport:
    start: dt.date
    end: dt.date
    months: list[DonationMonth]
    total: MethodTotals


def _succeeded_donations(start: dt.date, end: dt.date):
    lo, hi = local_bounds(start, end)
    return Donation.objects.filter(status=Donation.Status.SUCCEEDED, succeeded_at__gte=lo, succeeded_at__lt=hi)


def fund_donations_by_month(*, start: dt.date, end: dt.date) -> DonationsReport:
    """Succeeded donations from ``start`` to ``end`` by the local month they succeeded in and by
    method, every month of the range listed; with the totals. One query."""
    months = {key: DonationMonth(month=key) for key, _, _ in _periods(start, end, MONTH)}
    rows = (
        _succeeded_donations(start, end).annotate(period=_trunc("succeeded_at", MONTH))
        .order_by().values("period", "method").annotate(total=Sum("amount"), n=Count("pk"))
    )
    total = MethodTotals()
    for row in rows:
        amount = _cents(row["total"])
        months[_as_date(row["period"])].add(row["method"], amount, row["n"])
        total.add(row["method"], amount, row["n"])
    return DonationsReport(start=start, end=end, months=[months[k] for k in sorted(months)], total=total)


DONATIONS_HEADER = ["month", "cash_count", "cash", "check_count", "checks", "card_count", "card", "count", "total"]


def _method_cells(line: MethodTotals) -> list[str]:
    return [str(line.cash_count), _money(line.cash), str(line.check_count), _money(line.check),
            str(line.card_count), _money(line.card), str(line.count), _money(line.total)]


def donations_csv_rows(report: DonationsReport) -> Iterator[list[str]]:
    yield DONATIONS_HEADER
    for month in report.months:
        yield [month.month.strftime("%Y-%m"), *_method_cells(month)]
    yield ["total", *_method_cells(report.total)]


# --- scholarship awards per semester and course --------------------------------------------------

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
        _entries().filter(kind=K.AWARD, created_at__gte=lo, created_at__lt=hi).order_by()
        .values(f"{course}__semester_id", f"{course}__semester__name", f"{course}__semester__starts_on",
                f"{course}_id", f"{course}__title")
        .annotate(n=Count("pk"), total=Sum("amount"))
    )
    returns = (
        _entries().filter(kind=K.AWARD_RETURNED, registration__fund_entries__kind=K.AWARD,
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
            course=row[f"{course}__title"], awards=row["n"], awarded=-_cents(row["total"]),
            returned_count=back.get("n", 0), returned=_cents(back.get("total")),
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
    return [str(line.awards), _money(line.awarded), str(line.returned_count), _money(line.returned),
            _money(line.net), str(line.seats_funded)]


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

@dataclass
class Donor:
    first_name: str
    last_name: str
    email: str
    address: str
    gifts: int = 0
    total: Decimal = ZERO
    first_gift: dt.date | None = None
    last_gift: dt.date | None = None
    dedications: list[str] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    anonymous: bool = False  # a gift of theirs asked not to be listed: never publish the name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _squash(text: str) -> str:
    return " ".join((text or "").split())


def _donor_key(first_name: str, last_name: str, email: str, address: str) -> tuple[str, str]:
    name = _squash(f"{first_name} {last_name}").casefold()
    contact = (email or "").strip().casefold() or _squash(address).casefold()
    return name, contact


def fund_donors(*, start: dt.date, end: dt.date) -> list[Donor]:
    """The donors whose gifts succeeded from ``start`` to ``end``, by last and first name. A
    donor's contact details are those of the latest gift that has them. One query."""
    gifts = (
        _succeeded_donations(start, end).order_by("succeeded_at", "pk")
        .only("first_name", "last_name", "email", "address", "amount", "dedication", "anonymous", "succeeded_at")
    )
    donors: dict[tuple[str, str], Donor] = {}
    for gift in gifts:
        key = _donor_key(gift.first_name, gift.last_name, gift.email, gift.address)
        donor = donors.setdefault(key, Donor(first_name=gift.first_name, last_name=gift.last_name, email="",
                                             address=""))
        day = timezone.localtime(gift.succeeded_at).date()
        donor.first_name, donor.last_name = gift.first_name, gift.last_name
        donor.email, donor.address = gift.email or donor.email, gift.address or donor.address
        donor.gifts += 1
        donor.total += gift.amount
        donor.first_gift = donor.first_gift or day
        donor.last_gift = day
        donor.receipts.append(gift.receipt_number)
        dedication = _squash(gift.dedication)
        if dedication and dedication not in donor.dedications:
            donor.dedications.append(dedication)
        donor.anonymous = donor.anonymous or gift.anonymous
    return sorted(donors.values(), key=lambda d: (d.last_name.casefold(), d.first_name.casefold(), d.email, d.address))


@dataclass
class PublicName:
    name: str
    dedications: list[str]


def fund_names_for_publication(donors: list[Donor]) -> list[PublicName]:
    """The names that may be printed: every donor of ``donors`` except those who asked for
    anonymity on any of their gifts (left off entirely), with the dedications of their gifts.
    No amounts, no addresses."""
    return [PublicName(name=d.name, dedications=list(d.dedications)) for d in donors if not d.anonymous]


DONORS_HEADER = ["last_name", "first_name", "email", "address", "gifts", "total", "first_gift", "last_gift",
                 "dedications", "receipts", "anonymous"]
ANONYMOUS_FLAG = "yes: do not publish"


def donors_csv_rows(donors: list[Donor]) -> Iterator[list[str]]:
    """The thank-you letter list: every donor with name and address; anonymous ones flagged."""
    yield DONORS_HEADER
    for d in donors:
        yield [csv_text(d.last_name), csv_text(d.first_name), csv_text(d.email), csv_text(_squash(d.address)),
               str(d.gifts), _money(d.total), d.first_gift.isoformat(), d.last_gift.isoformat(),
               csv_text("; ".join(d.dedications)), " ".join(d.receipts), ANONYMOUS_FLAG if d.anonymous else "no"]


PUBLICATION_HEADER = ["name", "dedications"]


def publication_csv_rows(names: list[PublicName]) -> Iterator[list[str]]:
    yield PUBLICATION_HEADER
    for n in names:
        yield [csv_text(n.name), csv_text("; ".join(n.dedications))]


# --- the ledger -------------------------------------------------------------------------------------

def fund_ledger():
    """Every entry of the fund, newest first, each with ``balance_after`` (the running sum up to
    and including it, in booking order), who booked it and, for awards and returns, the course
    (never the attendee). Paginate it: the page is one query (and a count)."""
    running = Window(Sum("amount"), order_by=[F("created_at").asc(), F("pk").asc()],
                     frame=RowRange(start=None, end=0))
    return (
        _entries().select_related("created_by", "registration__course__semester")
        .annotate(balance_after=running)
        .order_by("-created_at", "-pk")
    )
