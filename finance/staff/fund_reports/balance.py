"""Pass the Buck reports, the fund's money over time: the balance per month or day, the donations
per month and method, the ledger; and the helpers the other fund reports share (see
``finance.staff.fund_reports``)."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DateField, F, Q, Sum, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from core.money import CENT, ZERO

from ...models import Donation, Fund, FundEntry
from ..deposit_report import local_bounds

K = FundEntry.Kind
M = Donation.Method

MONTH, DAY = "month", "day"
#: The longest range shown day by day, and month by month.
MAX_DAYS = 366
MAX_MONTHS = 120


def cents(value) -> Decimal:
    return (value or ZERO).quantize(CENT)


def money_cell(value: Decimal) -> str:
    return f"{value:.2f}"


def fund_entries():
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
    edges = fund_entries().aggregate(before=Sum("amount", filter=Q(created_at__lt=lo)),
                                 after=Sum("amount", filter=Q(created_at__gte=hi)))
    rows = (
        fund_entries().filter(created_at__gte=lo, created_at__lt=hi).annotate(period=_trunc("created_at", by))
        .order_by().values("period", "kind").annotate(total=Sum("amount"), n=Count("pk"))
    )
    lines = {key: BalancePeriod(key=key, first_day=first, last_day=last,
                                partial=by == MONTH and (first != key or last != _next_month(key) - dt.timedelta(days=1)))
             for key, first, last in periods}
    total = BalancePeriod(key=start, first_day=start, last_day=end, opening=cents(edges["before"]))
    for row in rows:
        line = lines[_as_date(row["period"])]
        name = _KIND_FIELD[row["kind"]]
        amount = cents(row["total"])
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
                         after=cents(edges["after"]))


BALANCE_HEADER = ["from", "to", "opening", "donations", "awards", "awards_returned", "adjustments", "closing",
                  "entries"]


def balance_csv_rows(report: BalanceReport) -> Iterator[list[str]]:
    """A header, one row per period, then the range's ``total`` row (amounts signed as in the ledger)."""
    yield BALANCE_HEADER
    for line in [*report.periods, report.total]:
        yield [line.first_day.isoformat(), line.last_day.isoformat(), money_cell(line.opening), money_cell(line.donations),
               money_cell(line.awards), money_cell(line.returns), money_cell(line.adjustments), money_cell(line.closing),
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


def succeeded_donations(start: dt.date, end: dt.date):
    lo, hi = local_bounds(start, end)
    return Donation.objects.filter(status=Donation.Status.SUCCEEDED, succeeded_at__gte=lo, succeeded_at__lt=hi)


def fund_donations_by_month(*, start: dt.date, end: dt.date) -> DonationsReport:
    """Succeeded donations from ``start`` to ``end`` by the local month they succeeded in and by
    method, every month of the range listed; with the totals. One query."""
    months = {key: DonationMonth(month=key) for key, _, _ in _periods(start, end, MONTH)}
    rows = (
        succeeded_donations(start, end).annotate(period=_trunc("succeeded_at", MONTH))
        .order_by().values("period", "method").annotate(total=Sum("amount"), n=Count("pk"))
    )
    total = MethodTotals()
    for row in rows:
        amount = cents(row["total"])
        months[_as_date(row["period"])].add(row["method"], amount, row["n"])
        total.add(row["method"], amount, row["n"])
    return DonationsReport(start=start, end=end, months=[months[k] for k in sorted(months)], total=total)


DONATIONS_HEADER = ["month", "cash_count", "cash", "check_count", "checks", "card_count", "card", "count", "total"]


def _method_cells(line: MethodTotals) -> list[str]:
    return [str(line.cash_count), money_cell(line.cash), str(line.check_count), money_cell(line.check),
            str(line.card_count), money_cell(line.card), str(line.count), money_cell(line.total)]


def donations_csv_rows(report: DonationsReport) -> Iterator[list[str]]:
    yield DONATIONS_HEADER
    for month in report.months:
        yield [month.month.strftime("%Y-%m"), *_method_cells(month)]
    yield ["total", *_method_cells(report.total)]


# --- the ledger -------------------------------------------------------------------------------------

def fund_ledger():
    """Every entry of the fund, newest first, each with ``balance_after`` (the running sum up to
    and including it, in booking order), who booked it and, for awards and returns, the course
    (never the attendee). Paginate it: the page is one query (and a count)."""
    running = Window(Sum("amount"), order_by=[F("created_at").asc(), F("pk").asc()],
                     frame=RowRange(start=None, end=0))
    return (
        fund_entries().select_related("created_by", "registration__course__semester")
        .annotate(balance_after=running)
        .order_by("-created_at", "-pk")
    )
