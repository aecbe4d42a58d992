"""The daily deposit report: cash and checks per day and per staff member, refunds issued on
their day, ties out with the payment records (checked against totals computed here from the
data the test made, not from the report's queries); card money is left out; CSV and the page."""

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core.roles import FINANCE, FRONT_DESK
from finance.models import Payment, Refund
from finance.services import refund_mark_issued
from finance.staff import deposit_report as reports
from tests.factories import RegistrationFactory, course_with_meetings, local_dt

P = Payment.Provider
D = Decimal


def staff_user(django_user_model, name: str, *roles: str, full_name: str = ""):
    first, _, last = full_name.partition(" ")
    user = django_user_model.objects.create_user(name, f"{name}@library.example.org", "a-long-passw0rd",
                                                 is_staff=True, first_name=first, last_name=last)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


class Ledger:
    """Makes payments and refunds and remembers, in plain Python, what the report should say."""

    def __init__(self, course):
        self.course = course
        self.received = defaultdict(lambda: D("0.00"))  # (day, staff id, provider) -> amount
        self.counts = defaultdict(int)
        self.refunded = defaultdict(lambda: D("0.00"))  # (day, staff id, provider) -> amount
        self.n = 0

    def payment(self, when, amount, provider, staff, *, status=Payment.Status.SUCCEEDED, counts=True):
        self.n += 1
        registration = RegistrationFactory(course=self.course, price=D(amount))
        payment = Payment.objects.create(
            order=registration.order, provider=provider, amount=D(amount), status=status, taken_by=staff,
            succeeded_at=when if status == Payment.Status.SUCCEEDED else None, payer=f"Payer {self.n}",
            reference={P.CHECK: f"{3000 + self.n}", P.CARD: f"pi_report{self.n}"}.get(provider, ""),
        )
        payment.registrations.set([registration])
        if counts:
            key = (timezone.localtime(when).date(), staff.pk if staff else None, provider)
            self.received[key] += D(amount)
            self.counts[key] += 1
        return payment

    def refund(self, payment, amount, staff, when, *, counts=True):
        refund = Refund.objects.create(payment=payment, registration=payment.registrations.get(), amount=D(amount),
                                       reason="test", dedupe_key=f"test:{payment.pk}:{amount}")
        if when is not None:
            refund_mark_issued(refund_id=refund.pk, reference="R-1", actor=staff, now=when)
            if counts:
                self.refunded[(timezone.localtime(when).date(), staff.pk, payment.provider)] += D(amount)
        return refund

    def day_staff(self, day, staff_id):
        def get(table, provider):
            return table.get((day, staff_id, provider), D("0.00"))

        return {
            "cash": get(self.received, P.CASH), "checks": get(self.received, P.CHECK),
            "cash_count": self.counts.get((day, staff_id, P.CASH), 0),
            "check_count": self.counts.get((day, staff_id, P.CHECK), 0),
            "refunds": get(self.refunded, P.CASH) + get(self.refunded, P.CHECK),
        }


@pytest.fixture
def staff(django_user_model):
    return {
        "ann": staff_user(django_user_model, "ann", FRONT_DESK, full_name="Ann Desk"),
        "bo": staff_user(django_user_model, "bo", FRONT_DESK, full_name="Bo Counter"),
        "fin": staff_user(django_user_model, "fin", FINANCE, full_name="Fin Ledger"),
    }


@pytest.fixture
def week(db, staff):
    """Three days of desk money, and what must not count."""
    ledger = Ledger(course_with_meetings(capacity=50))
    day1, day2, day3 = (dt.date(2031, 3, 3) + dt.timedelta(days=i) for i in range(3))
    ann, bo, fin = staff["ann"], staff["bo"], staff["fin"]
    ledger.payment(local_dt(day1, 9, 15), "25.00", P.CASH, ann)
    ledger.payment(local_dt(day1, 10, 0), "40.00", P.CHECK, ann)
    ledger.payment(local_dt(day1, 11, 30), "12.50", P.CASH, bo)
    ledger.payment(local_dt(day1, 23, 45), "30.00", P.CHECK, bo)  # late evening: still day 1 locally
    checked = ledger.payment(local_dt(day2, 0, 5), "60.00", P.CHECK, ann)
    cash = ledger.payment(local_dt(day2, 14, 0), "20.00", P.CASH, bo)
    ledger.payment(local_dt(day3, 9, 0), "15.00", P.CASH, None)  # no staff member recorded
    ledger.payment(local_dt(day3, 16, 0), "35.00", P.CHECK, bo)
    # refunds: issued on day 2 and 3 (by finance); one still to issue; one card refund
    ledger.refund(checked, "10.00", fin, local_dt(day2, 15, 0))
    ledger.refund(cash, "20.00", fin, local_dt(day3, 10, 0))
    ledger.refund(ledger.payment(local_dt(day1, 8, 0), "5.00", P.CASH, ann), "5.00", fin, None)  # to issue
    # what must not count
    card = ledger.payment(local_dt(day2, 12, 0), "99.00", P.CARD, None, counts=False)
    card_refund = Refund.objects.create(payment=card, amount=D("9.00"), reason="card", dedupe_key="card:1",
                                        status=Refund.Status.DONE, done_at=local_dt(day2, 13, 0))
    assert card_refund.pk
    ledger.payment(local_dt(day2, 12, 0), "77.00", P.CASH, ann, status=Payment.Status.FAILED, counts=False)
    ledger.payment(local_dt(day2, 12, 0), "66.00", P.CHECK, ann, status=Payment.Status.PENDING, counts=False)
    ledger.payment(local_dt(day1 - dt.timedelta(days=1), 23, 59), "11.00", P.CASH, ann, counts=False)  # before
    ledger.payment(local_dt(day3 + dt.timedelta(days=1), 0, 0), "13.00", P.CASH, ann, counts=False)  # after
    ledger.days = (day1, day2, day3)
    return ledger


# --- the numbers ---------------------------------------------------------------------------------

def test_the_report_ties_out_with_the_payments_per_day_and_staff_member(week, staff):
    day1, day2, day3 = week.days
    report = reports.deposit_report(start=day1, end=day3)
    assert [d.day for d in report.days] == [day1, day2, day3]
    for day in report.days:
        expected_staff = {sid for (d, sid, _) in [*week.received, *week.refunded] if d == day.day}
        assert {line.staff_id for line in day.staff} == expected_staff
        for line in day.staff:
            want = week.day_staff(day.day, line.staff_id)
            got = {"cash": line.cash, "checks": line.checks, "cash_count": line.cash_count,
                   "check_count": line.check_count, "refunds": line.refunds}
            assert got == want, (day.day, line.staff)
            assert line.net == want["cash"] + want["checks"] - want["refunds"]
        cash = sum((v for (d, _, p), v in week.received.items() if d == day.day and p == P.CASH), D("0"))
        checks = sum((v for (d, _, p), v in week.received.items() if d == day.day and p == P.CHECK), D("0"))
        refunds = sum((v for (d, _, _), v in week.refunded.items() if d == day.day), D("0"))
        assert (day.total.cash, day.total.checks, day.total.refunds) == (cash, checks, refunds)
        assert day.total.net == cash + checks - refunds
    assert report.total.cash == D("77.50") and report.total.checks == D("165.00")
    assert report.total.cash_count == 5 and report.total.check_count == 4
    assert report.total.cash_refunds == D("20.00") and report.total.check_refunds == D("10.00")
    assert report.total.net == D("212.50")
    assert report.total.cash_net == D("57.50") and report.total.check_net == D("155.00")


def test_a_late_evening_payment_counts_on_its_local_day(week, staff):
    day1, _, _ = week.days
    report = reports.deposit_report(start=day1, end=day1)
    [day] = report.days
    bo = next(line for line in day.staff if line.staff_id == staff["bo"].pk)
    assert bo.checks == D("30.00") and bo.cash == D("12.50")
    assert report.total.received == D("112.50")  # 5 + 25 + 40 + 12.50 + 30: not the 00:05 check of day 2


def test_a_refund_reduces_the_net_on_the_day_it_is_issued(week, staff):
    _, day2, day3 = week.days
    report = reports.deposit_report(start=day2, end=day2)
    [day] = report.days
    assert (day.total.received, day.total.refunds, day.total.net) == (D("80.00"), D("10.00"), D("70.00"))
    fin = next(line for line in day.staff if line.staff_id == staff["fin"].pk)
    assert (fin.received, fin.check_refunds, fin.net, fin.refund_count) == (D("0.00"), D("10.00"), D("-10.00"), 1)
    report = reports.deposit_report(start=day3, end=day3)
    assert report.total.cash_refunds == D("20.00") and report.total.net == D("30.00")


def test_card_money_and_unfinished_payments_are_left_out(week):
    day1, day2, day3 = week.days
    report = reports.deposit_report(start=day1 - dt.timedelta(days=5), end=day3 + dt.timedelta(days=5))
    grand = sum((v for v in week.received.values()), D("0")) + D("11.00") + D("13.00")  # the two outside the range
    assert report.total.received == grand
    assert D("99.00") not in [line.cash + line.checks for d in report.days for line in d.staff]
    assert report.total.refunds == D("30.00")  # the card refund and the one still to issue are not here


def test_the_report_by_staff_member_adds_up_to_the_total(week, staff):
    day1, _, day3 = week.days
    report = reports.deposit_report(start=day1, end=day3)
    by = {line.staff_id: line for line in report.by_staff}
    for staff_id, line in by.items():
        cash = sum((v for (_, s, p), v in week.received.items() if s == staff_id and p == P.CASH), D("0"))
        checks = sum((v for (_, s, p), v in week.received.items() if s == staff_id and p == P.CHECK), D("0"))
        refunds = sum((v for (_, s, _), v in week.refunded.items() if s == staff_id), D("0"))
        assert (line.cash, line.checks, line.refunds) == (cash, checks, refunds)
    assert by[None].staff == reports.NOBODY and by[staff["ann"].pk].staff == "Ann Desk"
    assert sum((line.net for line in report.by_staff), D("0")) == report.total.net


def test_the_csv_exports_add_up(week):
    day1, _, day3 = week.days
    report = reports.deposit_report(start=day1, end=day3)
    rows = list(csv.DictReader(_csv_text(reports.deposit_csv_rows(report))))
    staff_rows = [r for r in rows if r["row"] == "staff"]
    assert sum(D(r["net"]) for r in staff_rows) == report.total.net
    assert sum(D(r["cash_received"]) for r in staff_rows) == D("77.50")
    [total] = [r for r in rows if r["row"] == "total"]
    assert (D(total["checks_received"]), D(total["net"])) == (D("165.00"), D("212.50"))
    items = list(csv.DictReader(_csv_text(reports.deposit_item_rows(reports.deposit_items(start=day1, end=day3)))))
    assert sum(D(i["amount"]) for i in items) == report.total.net
    assert len([i for i in items if i["kind"] == "payment"]) == 9 and len([i for i in items if i["kind"] == "refund"]) == 2


def _csv_text(rows) -> io.StringIO:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    out.seek(0)
    return out


def test_a_formula_in_a_payer_name_is_neutralized_in_the_csv(db, staff):
    ledger = Ledger(course_with_meetings())
    payment = ledger.payment(timezone.now(), "5.00", P.CASH, staff["ann"])
    Payment.objects.filter(pk=payment.pk).update(payer="=HYPERLINK(\"http://x\")")
    today = timezone.localdate()
    [item] = list(csv.DictReader(_csv_text(reports.deposit_item_rows(reports.deposit_items(start=today, end=today)))))
    assert item["payer"].startswith("'=")


# --- the page ------------------------------------------------------------------------------------

def test_finance_sees_the_report_and_its_csv(client, week, staff):
    day1, _, day3 = week.days
    client.force_login(staff["fin"])
    url = reverse("money:deposit-report")
    page = client.get(url, {"start": day1.isoformat(), "end": day3.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert "$212.50" in html and "Ann Desk" in html and "Bo Counter" in html and "Print" in html
    assert page.context["report"].total.net == D("212.50")
    summary = client.get(url, {"start": day1.isoformat(), "end": day3.isoformat(), "export": "summary"})
    assert summary["Content-Type"].startswith("text/csv")
    assert "attachment" in summary["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(summary.content.decode())))
    assert rows[-1]["row"] == "total" and D(rows[-1]["net"]) == D("212.50")
    items = client.get(url, {"start": day1.isoformat(), "end": day3.isoformat(), "export": "items"})
    assert sum(D(r["amount"]) for r in csv.DictReader(io.StringIO(items.content.decode()))) == D("212.50")


def test_the_report_defaults_to_today(client, db, staff):
    client.force_login(staff["fin"])
    page = client.get(reverse("money:deposit-report"))
    assert page.status_code == 200
    today = timezone.localdate()
    assert (page.context["report"].start, page.context["report"].end) == (today, today)


@pytest.mark.parametrize(("query", "field"), [
    ({"start": "2031-03-05", "end": "2031-03-01"}, "end"),
    ({"start": "not-a-date", "end": "2031-03-01"}, "start"),
    ({"start": "2030-01-01", "end": "2031-06-01"}, "end"),
    ({"start": "2031-03-01"}, "end"),
])
def test_a_bad_range_is_a_message_on_its_field(client, db, staff, query, field):
    client.force_login(staff["fin"])
    page = client.get(reverse("money:deposit-report"), query)
    assert page.status_code == 400 and field in page.context["form"].errors


def test_front_desk_gets_403_finance_200(client, db, staff):
    url = reverse("money:deposit-report")
    client.force_login(staff["ann"])
    assert client.get(url).status_code == 403
    assert client.get(url, {"export": "summary"}).status_code == 403
    client.force_login(staff["fin"])
    assert client.get(url).status_code == 200
