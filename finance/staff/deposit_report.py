"""The daily deposit report: the cash and checks staff took in, day by day and staff member by
staff member, and the cash/check refunds handed out, so the deposit ties out with the payment
records.

Every number is an aggregate over ``Payment`` and ``Refund`` rows (nothing is stored):

- received: succeeded cash and check payments, on the local day they succeeded (the desk records
  a payment as succeeded when it takes the money), by ``taken_by``;
- refunded: cash and check refunds that are done (the refund check was written or the cash handed
  out: ``refund_mark_issued``), on the local day they were done, by ``issued_by``; card payments
  and card refunds are Stripe's and never part of a deposit;
- net = received − refunded.

Reads only. ``deposit_csv_rows`` and ``deposit_item_rows`` are the report's CSV exports.

This is finance's own daily tie-out of the money staff handled (the page is
``finance.staff.deposits``), so it stays in finance and not in ``reports/``, which holds the
program's numbers read across classes, enrollment and finance.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.money import ZERO

from ..models import Payment, Refund

P = Payment.Provider
DEPOSIT_PROVIDERS = (P.CASH, P.CHECK)
#: The longest range one report covers.
MAX_DAYS = 366
NOBODY = "(not recorded)"


@dataclass
class DepositLine:
    """Money in and out for one day and one staff member (or a total of such lines)."""

    cash: Decimal = ZERO
    cash_count: int = 0
    checks: Decimal = ZERO
    check_count: int = 0
    cash_refunds: Decimal = ZERO
    check_refunds: Decimal = ZERO
    refund_count: int = 0

    @property
    def received(self) -> Decimal:
        return self.cash + self.checks

    @property
    def refunds(self) -> Decimal:
        return self.cash_refunds + self.check_refunds

    @property
    def net(self) -> Decimal:
        return self.received - self.refunds

    @property
    def cash_net(self) -> Decimal:
        return self.cash - self.cash_refunds

    @property
    def check_net(self) -> Decimal:
        return self.checks - self.check_refunds

    def add(self, other: "DepositLine") -> None:
        for name in ("cash", "cash_count", "checks", "check_count", "cash_refunds", "check_refunds", "refund_count"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class StaffLine(DepositLine):
    staff_id: int | None = None
    staff: str = NOBODY


@dataclass
class DepositDay:
    day: dt.date
    staff: list[StaffLine] = field(default_factory=list)
    total: DepositLine = field(default_factory=DepositLine)


@dataclass
class DepositReport:
    start: dt.date
    end: dt.date
    days: list[DepositDay]
    by_staff: list[StaffLine]
    total: DepositLine


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in the program's time zone."""
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
            timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz))


def deposit_payments(*, start: dt.date, end: dt.date):
    """The succeeded cash and check payments received from ``start`` to ``end`` (local days),
    annotated with ``received_at`` and ``day``."""
    lo, hi = local_bounds(start, end)
    return (
        Payment.objects.filter(status=Payment.Status.SUCCEEDED, provider__in=DEPOSIT_PROVIDERS)
        .annotate(received_at=Coalesce("succeeded_at", "created_at"))
        .filter(received_at__gte=lo, received_at__lt=hi)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
    )


def deposit_refunds(*, start: dt.date, end: dt.date):
    """The cash and check refunds issued (done) from ``start`` to ``end``, annotated with ``day``."""
    lo, hi = local_bounds(start, end)
    return (
        Refund.objects.filter(status=Refund.Status.DONE, payment__provider__in=DEPOSIT_PROVIDERS,
                              done_at__gte=lo, done_at__lt=hi)
        .annotate(day=TruncDate("done_at", tzinfo=timezone.get_current_timezone()))
    )


def _staff_names(ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=[i for i in ids if i is not None])
    return {u.pk: (u.get_full_name() or u.get_username()) for u in users}


def deposit_report(*, start: dt.date, end: dt.date) -> DepositReport:
    """The deposit report for ``start`` to ``end`` (local days, both included): per day, one
    line per staff member who took or refunded money, the day's total; per staff member over the
    range; the grand total. Two aggregate queries (and one for the staff names)."""
    if end < start:
        raise ValueError("end before start")
    received = (
        deposit_payments(start=start, end=end).order_by().values("day", "taken_by", "provider")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    refunded = (
        deposit_refunds(start=start, end=end).order_by().values("day", "issued_by", "payment__provider")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    lines: dict[tuple[dt.date, int | None], DepositLine] = {}
    for row in received:
        line = lines.setdefault((row["day"], row["taken_by"]), DepositLine())
        if row["provider"] == P.CASH:
            line.cash += row["total"]
            line.cash_count += row["n"]
        else:
            line.checks += row["total"]
            line.check_count += row["n"]
    for row in refunded:
        line = lines.setdefault((row["day"], row["issued_by"]), DepositLine())
        if row["payment__provider"] == P.CASH:
            line.cash_refunds += row["total"]
        else:
            line.check_refunds += row["total"]
        line.refund_count += row["n"]
    names = _staff_names({staff_id for _, staff_id in lines})

    def name(staff_id):
        return names.get(staff_id, NOBODY) if staff_id is not None else NOBODY

    days: dict[dt.date, DepositDay] = {}
    by_staff: dict[int | None, StaffLine] = {}
    total = DepositLine()
    for (day, staff_id), line in lines.items():
        deposit_day = days.setdefault(day, DepositDay(day=day))
        staff_line = StaffLine(staff_id=staff_id, staff=name(staff_id))
        staff_line.add(line)
        deposit_day.staff.append(staff_line)
        deposit_day.total.add(line)
        by_staff.setdefault(staff_id, StaffLine(staff_id=staff_id, staff=name(staff_id))).add(line)
        total.add(line)
    for deposit_day in days.values():
        deposit_day.staff.sort(key=lambda s: (s.staff.casefold(), s.staff_id or 0))
    return DepositReport(
        start=start, end=end, days=[days[d] for d in sorted(days)],
        by_staff=sorted(by_staff.values(), key=lambda s: (s.staff.casefold(), s.staff_id or 0)), total=total,
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def csv_text(value: str) -> str:
    """A name or reference as a CSV cell a spreadsheet will not run as a formula."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


CSV_HEADER = ["date", "staff", "row", "cash_count", "cash_received", "check_count", "checks_received",
              "refund_count", "cash_refunds", "check_refunds", "net"]


def _csv_line(day: str, staff: str, row: str, line: DepositLine) -> list[str]:
    return [day, csv_text(staff), row, str(line.cash_count), _money(line.cash), str(line.check_count), _money(line.checks),
            str(line.refund_count), _money(line.cash_refunds), _money(line.check_refunds), _money(line.net)]


def deposit_csv_rows(report: DepositReport) -> Iterator[list[str]]:
    """The summary as CSV rows: a header, one ``staff`` row per day and staff member, a ``day
    total`` row per day, then one ``staff total`` row per staff member and the ``total`` row
    (filter on ``row`` to add up one kind)."""
    yield CSV_HEADER
    for day in report.days:
        for line in day.staff:
            yield _csv_line(day.day.isoformat(), line.staff, "staff", line)
        yield _csv_line(day.day.isoformat(), "", "day total", day.total)
    for line in report.by_staff:
        yield _csv_line("", line.staff, "staff total", line)
    yield _csv_line("", "", "total", report.total)


ITEM_HEADER = ["date", "time", "kind", "method", "amount", "reference", "payer", "order", "staff", "record"]


def deposit_items(*, start: dt.date, end: dt.date) -> list[dict]:
    """Every payment and refund the report adds up, oldest first: what a deposit slip lists and
    what staff tick off against the checks in hand. Refund amounts are negative."""
    items = []
    payments = deposit_payments(start=start, end=end).select_related("order", "taken_by").order_by("received_at", "pk")
    for p in payments:
        items.append({
            "at": timezone.localtime(p.received_at), "kind": "payment", "method": p.get_provider_display(),
            "amount": p.amount, "reference": p.reference, "payer": p.payer or p.order.buyer_name,
            "order": p.order.reference, "staff": (p.taken_by.get_full_name() or p.taken_by.get_username())
            if p.taken_by else NOBODY, "record": f"payment #{p.pk}", "object": p,
        })
    refunds = deposit_refunds(start=start, end=end).select_related("payment", "payment__order", "issued_by")
    for r in refunds.order_by("done_at", "pk"):
        items.append({
            "at": timezone.localtime(r.done_at), "kind": "refund", "method": r.payment.get_provider_display(),
            "amount": -r.amount, "reference": r.reference, "payer": r.payment.payer or r.payment.order.buyer_name,
            "order": r.payment.order.reference, "staff": (r.issued_by.get_full_name() or r.issued_by.get_username())
            if r.issued_by else NOBODY, "record": f"refund #{r.pk}", "object": r,
        })
    items.sort(key=lambda i: (i["at"], i["kind"], i["record"]))
    return items


def deposit_item_rows(items: list[dict]) -> Iterator[list[str]]:
    yield ITEM_HEADER
    for i in items:
        yield [i["at"].date().isoformat(), i["at"].strftime("%H:%M"), i["kind"], i["method"], _money(i["amount"]),
               csv_text(i["reference"]), csv_text(i["payer"]), i["order"], csv_text(i["staff"]), i["record"]]
