"""Pass the Buck reports and the fund adjustment form (``finance.staff.fund_reports``,
``finance.staff.fund``): real figures for a small history of gifts, awards, a return and an
adjustment; the CSV exports; who may open what; every kind of bad input on the adjustment form
(nothing written, never a 500); and a query count that does not grow with the data.

Every fund entry is booked through the fund and donation services (``now=`` sets its time)."""

import csv
import datetime as dt
import io
import itertools
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.roles import COORDINATOR, FINANCE, FRONT_DESK
from enrollment.models import Registration
from finance.models import Donation, FundEntry
from finance.services.donations import donation_record_offline
from finance.services.fund import fund_adjust, fund_award, fund_award_return, fund_balance, fund_donation_record
from finance.staff import fund_reports as fr
from finance.staff.forms import parse_signed_amount
from finance.staff.fund import LEDGER_PAGE_SIZE
from tests.factories import CourseFactory, DonationFactory, RegistrationFactory, SemesterFactory, local_dt, role_client

pytestmark = pytest.mark.django_db

D = Decimal
JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
Q1 = {"start": "2026-01-01", "end": "2026-03-31", "by": "month"}
REPORT, LEDGER, ADJUST = "money:fund-report", "money:fund-ledger", "money:fund-adjust"
ATTENDEES = ("Zelda", "Quixote")  # the scholarship recipients' names: never on these pages
_intents = itertools.count(1)


@pytest.fixture
def finance(django_user_model):
    return role_client(django_user_model, FINANCE, "fran", first_name="Fran", last_name="Finance")


@pytest.fixture
def desk(django_user_model):
    return role_client(django_user_model, FRONT_DESK, "dee")


def give(clerk, when: dt.datetime, amount: str, *, first="Ada", last="Lopez", method="cash", reference="",
         address="12 Elm St\nRiverside", dedication="", anonymous=False) -> Donation:
    return donation_record_offline(first_name=first, last_name=last, email="", address=address, amount=D(amount),
                                   method=method, reference=reference, dedication=dedication, anonymous=anonymous,
                                   taken_by=clerk, now=when)


def card_gift(when: dt.datetime, amount: str, **fields) -> Donation:
    """A card gift from the donation page: its record, and its fund entry booked by the fund service."""
    donation = DonationFactory(method=Donation.Method.CARD, reference=f"pi_test_{next(_intents)}", amount=D(amount),
                               email="", created_at=when, succeeded_at=when, **fields)
    fund_donation_record(amount=donation.amount, dedupe_key=f"donation:{donation.pk}", now=when)
    return donation


def award(course, when: dt.datetime, amount: str = "12.50") -> Registration:
    registration = RegistrationFactory(course=course, attendee_first_name=ATTENDEES[0],
                                       attendee_last_name=ATTENDEES[1])
    fund_award(registration=registration, amount=D(amount), reason="Half the fee", now=when)
    return registration


@pytest.fixture
def history(finance):
    """December: a $10 gift before the report's range. January: Ada Lopez $50 cash (a dedication),
    Ben Ortiz $30 by check at 11:30 pm on Jan 31 (anonymous; already Feb 1 in UTC). February: Ada
    again $20 by check, Dana Park $15 by card, two $12.50 awards (Spring and Summer 2026), the
    Spring one returned, a −$5 adjustment. A pending card gift never counts."""
    clerk = finance.user
    give(clerk, local_dt(dt.date(2025, 12, 15), 11), "10.00", first="Cy", last="Early", address="1 Oak Rd")
    give(clerk, local_dt(dt.date(2026, 1, 10), 10), "50.00", dedication="In honor of Grace")
    give(clerk, local_dt(dt.date(2026, 1, 31), 23, 30), "30.00", first="Ben", last="Ortiz", method="check",
         reference="1042", address="9 Pine Ave", anonymous=True)
    give(clerk, local_dt(dt.date(2026, 2, 14), 12), "20.00", method="check", reference="1077")
    card_gift(local_dt(dt.date(2026, 2, 20), 15), "15.00", first_name="Dana", last_name="Park")
    DonationFactory(method=Donation.Method.CARD, reference="pi_pending", amount=D("99.00"),
                    status=Donation.Status.PENDING, succeeded_at=None, created_at=local_dt(dt.date(2026, 2, 21), 9))
    spring = SemesterFactory(name="Spring 2026", starts_on=dt.date(2026, 1, 12), ends_on=dt.date(2026, 5, 1))
    summer = SemesterFactory(name="Summer 2026", starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 8, 1))
    bread = CourseFactory(semester=spring, title="Bread Baking")
    knots = CourseFactory(semester=summer, title="Knot Tying")
    returned = award(bread, local_dt(dt.date(2026, 2, 15), 9))
    award(knots, local_dt(dt.date(2026, 2, 16), 9))
    Registration.objects.filter(pk=returned.pk).update(status=Registration.Status.CANCELLED)
    fund_award_return(registration=returned, now=local_dt(dt.date(2026, 2, 20), 9))
    fund_adjust(amount=D("-5.00"), reason="Check 1042 counted twice", by=clerk, now=local_dt(dt.date(2026, 2, 28), 9))
    return {"spring": spring, "summer": summer, "bread": bread, "knots": knots}


def rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- the figures ----------------------------------------------------------------------------------

def test_the_balance_runs_month_by_month_and_ends_at_the_fund_balance(history):
    report = fr.fund_balance_over_time(start=JAN, end=dt.date(2026, 3, 31), by=fr.MONTH)
    got = [(p.key, p.opening, p.donations, p.awards, p.returns, p.adjustments, p.closing) for p in report.periods]
    assert got == [
        (JAN, D("10.00"), D("80.00"), D("0.00"), D("0.00"), D("0.00"), D("90.00")),
        (FEB, D("90.00"), D("35.00"), D("-25.00"), D("12.50"), D("-5.00"), D("107.50")),
        (MAR, D("107.50"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("107.50")),
    ]
    total = report.total
    assert (total.opening, total.donations, total.awards, total.returns, total.adjustments, total.closing) == (
        D("10.00"), D("115.00"), D("-25.00"), D("12.50"), D("-5.00"), D("107.50"))
    assert report.closing == report.current == fund_balance() == D("107.50")
    assert all(isinstance(v, Decimal) for p in report.periods for v in (p.opening, p.donations, p.closing))


def test_a_range_before_today_keeps_what_came_after_apart():
    """January alone: the closing is January's; what was booked later makes up the current balance."""
    fund_donation_record(amount=D("40.00"), dedupe_key="t:jan", now=local_dt(dt.date(2026, 1, 5), 9))
    fund_donation_record(amount=D("7.25"), dedupe_key="t:feb", now=local_dt(dt.date(2026, 2, 5), 9))
    report = fr.fund_balance_over_time(start=JAN, end=dt.date(2026, 1, 31))
    assert (report.opening, report.closing, report.after, report.current) == (
        D("0.00"), D("40.00"), D("7.25"), D("47.25"))
    assert report.current == fund_balance()


def test_day_by_day_uses_the_librarys_local_days(history):
    """The check taken at 11:30 pm on Jan 31 (Chicago) is Jan 31's, though UTC says Feb 1."""
    report = fr.fund_balance_over_time(start=dt.date(2026, 1, 30), end=dt.date(2026, 2, 2), by=fr.DAY)
    assert [(p.key.day, p.opening, p.donations, p.closing) for p in report.periods] == [
        (30, D("60.00"), D("0.00"), D("60.00")),
        (31, D("60.00"), D("30.00"), D("90.00")),
        (1, D("90.00"), D("0.00"), D("90.00")),
        (2, D("90.00"), D("0.00"), D("90.00")),
    ]
    assert not any(p.partial for p in report.periods)


def test_months_cut_by_the_range_are_marked():
    report = fr.fund_balance_over_time(start=dt.date(2026, 1, 15), end=dt.date(2026, 3, 31))
    assert [(p.first_day, p.last_day, p.partial) for p in report.periods] == [
        (dt.date(2026, 1, 15), dt.date(2026, 1, 31), True),
        (FEB, dt.date(2026, 2, 28), False),
        (MAR, dt.date(2026, 3, 31), False),
    ]


def test_donations_by_month_and_method(history):
    report = fr.fund_donations_by_month(start=JAN, end=dt.date(2026, 3, 31))
    got = [(m.month, m.cash, m.cash_count, m.check, m.check_count, m.card, m.card_count, m.total)
           for m in report.months]
    assert got == [
        (JAN, D("50.00"), 1, D("30.00"), 1, D("0.00"), 0, D("80.00")),
        (FEB, D("0.00"), 0, D("20.00"), 1, D("15.00"), 1, D("35.00")),
        (MAR, D("0.00"), 0, D("0.00"), 0, D("0.00"), 0, D("0.00")),
    ]
    t = report.total
    assert (t.cash, t.check, t.card, t.total, t.count) == (D("50.00"), D("50.00"), D("15.00"), D("115.00"), 4)


def test_awards_per_semester_and_course(history):
    report = fr.fund_awards_by_course(start=JAN, end=dt.date(2026, 3, 31))
    got = [(s.semester, [(c.course, c.awards, c.awarded, c.returned_count, c.returned, c.net, c.seats_funded)
                         for c in s.courses]) for s in report.semesters]
    assert got == [  # newest semester first
        ("Summer 2026", [("Knot Tying", 1, D("12.50"), 0, D("0.00"), D("12.50"), 1)]),
        ("Spring 2026", [("Bread Baking", 1, D("12.50"), 1, D("12.50"), D("0.00"), 0)]),
    ]
    t = report.total
    assert (t.awards, t.awarded, t.returned_count, t.returned, t.net, t.seats_funded) == (
        2, D("25.00"), 1, D("12.50"), D("12.50"), 1)
    # awards made outside the range are not counted (their returns neither)
    assert fr.fund_awards_by_course(start=MAR, end=dt.date(2026, 3, 31)).semesters == []


def test_donors_for_letters_keep_anonymous_donors_flagged_and_publication_leaves_them_off(history):
    donors = fr.fund_donors(start=JAN, end=dt.date(2026, 3, 31))
    got = [(d.name, d.gifts, d.total, d.first_gift, d.last_gift, d.dedications, d.anonymous) for d in donors]
    assert got == [
        ("Ada Lopez", 2, D("70.00"), dt.date(2026, 1, 10), dt.date(2026, 2, 14), ["In honor of Grace"], False),
        ("Ben Ortiz", 1, D("30.00"), dt.date(2026, 1, 31), dt.date(2026, 1, 31), [], True),
        ("Dana Park", 1, D("15.00"), dt.date(2026, 2, 20), dt.date(2026, 2, 20), [], False),
    ]
    assert donors[1].address == "9 Pine Ave"  # the letter still reaches the anonymous donor
    assert len(donors[0].receipts) == 2 and all(r.startswith("D-") for r in donors[0].receipts)
    names = fr.fund_names_for_publication(donors)
    assert [(n.name, n.dedications) for n in names] == [("Ada Lopez", ["In honor of Grace"]), ("Dana Park", [])]


def test_one_anonymous_gift_keeps_a_donor_off_the_published_names(finance):
    give(finance.user, local_dt(dt.date(2026, 1, 5), 9), "10.00")
    give(finance.user, local_dt(dt.date(2026, 1, 6), 9), "500.00", anonymous=True)
    give(finance.user, local_dt(dt.date(2026, 1, 7), 9), "5.00", address="77 Other St")  # another Ada Lopez
    donors = fr.fund_donors(start=JAN, end=dt.date(2026, 1, 31))
    assert [(d.name, d.address, d.gifts, d.anonymous) for d in donors] == [
        ("Ada Lopez", "12 Elm St\nRiverside", 2, True), ("Ada Lopez", "77 Other St", 1, False)]
    assert [n.name for n in fr.fund_names_for_publication(donors)] == ["Ada Lopez"]  # only the other Ada


# --- the pages --------------------------------------------------------------------------------------

def test_the_report_page_shows_the_figures_without_any_recipient(history, finance):
    response = finance.get(reverse(REPORT), Q1)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("$107.50", "−$25.00", "$12.50", "Knot Tying", "Spring 2026", "Ada Lopez",
                 "Anonymous: do not publish", "In honor of Grace", "table=balance", "table=donors"):
        assert text in html, text
    for name in ATTENDEES:
        assert name not in html
    publication = html.split('id="fund-publication"')[1].split("</ul>")[0]
    assert "Ada Lopez" in publication and "Dana Park" in publication and "Ben Ortiz" not in publication


def test_the_report_opens_on_the_last_twelve_months(finance):
    fund_donation_record(amount=D("8.00"), dedupe_key="t:now")
    response = finance.get(reverse(REPORT))
    assert response.status_code == 200
    report = response.context["report"]
    assert len(report.periods) == 12 and report.closing == fund_balance() == D("8.00")


def test_each_table_downloads_as_csv(history, finance):
    url = reverse(REPORT)
    assert rows(finance.get(url, {**Q1, "format": "csv", "table": "balance"})) == [
        fr.BALANCE_HEADER,
        ["2026-01-01", "2026-01-31", "10.00", "80.00", "0.00", "0.00", "0.00", "90.00", "2"],
        ["2026-02-01", "2026-02-28", "90.00", "35.00", "-25.00", "12.50", "-5.00", "107.50", "6"],
        ["2026-03-01", "2026-03-31", "107.50", "0.00", "0.00", "0.00", "0.00", "107.50", "0"],
        ["2026-01-01", "2026-03-31", "10.00", "115.00", "-25.00", "12.50", "-5.00", "107.50", "8"],
    ]
    assert rows(finance.get(url, {**Q1, "format": "csv", "table": "donations"})) == [
        fr.DONATIONS_HEADER,
        ["2026-01", "1", "50.00", "1", "30.00", "0", "0.00", "2", "80.00"],
        ["2026-02", "0", "0.00", "1", "20.00", "1", "15.00", "2", "35.00"],
        ["2026-03", "0", "0.00", "0", "0.00", "0", "0.00", "0", "0.00"],
        ["total", "1", "50.00", "2", "50.00", "1", "15.00", "4", "115.00"],
    ]
    assert rows(finance.get(url, {**Q1, "format": "csv", "table": "awards"})) == [
        fr.AWARDS_HEADER,
        ["Summer 2026", "Knot Tying", "course", "1", "12.50", "0", "0.00", "12.50", "1"],
        ["Summer 2026", "", "semester total", "1", "12.50", "0", "0.00", "12.50", "1"],
        ["Spring 2026", "Bread Baking", "course", "1", "12.50", "1", "12.50", "0.00", "0"],
        ["Spring 2026", "", "semester total", "1", "12.50", "1", "12.50", "0.00", "0"],
        ["", "", "total", "2", "25.00", "1", "12.50", "12.50", "1"],
    ]
    donors = rows(finance.get(url, {**Q1, "format": "csv", "table": "donors"}))
    assert donors[0] == fr.DONORS_HEADER
    assert [(r[0], r[1], r[3], r[4], r[5], r[8], r[10]) for r in donors[1:]] == [
        ("Lopez", "Ada", "12 Elm St Riverside", "2", "70.00", "In honor of Grace", "no"),
        ("Ortiz", "Ben", "9 Pine Ave", "1", "30.00", "", fr.ANONYMOUS_FLAG),
        ("Park", "Dana", "", "1", "15.00", "", "no"),
    ]
    assert rows(finance.get(url, {**Q1, "format": "csv", "table": "publication"})) == [
        ["name", "dedications"], ["Ada Lopez", "In honor of Grace"], ["Dana Park", ""]]
    response = finance.get(url, {**Q1, "format": "csv", "table": "balance"})
    assert response["Content-Disposition"] == 'attachment; filename="pass-the-buck-balance-2026-01-01-2026-03-31.csv"'


def test_csv_cells_never_start_a_formula(finance):
    give(finance.user, local_dt(dt.date(2026, 1, 5), 9), "10.00", first="=HYPERLINK(1)", last="@SUM(A1)",
         dedication="+1 for the fund")
    url = reverse(REPORT)
    donor = rows(finance.get(url, {**Q1, "format": "csv", "table": "donors"}))[1]
    assert donor[:2] == ["'@SUM(A1)", "'=HYPERLINK(1)"] and donor[8] == "'+1 for the fund"
    published = rows(finance.get(url, {**Q1, "format": "csv", "table": "publication"}))[1]
    assert published == ["'=HYPERLINK(1) @SUM(A1)", "'+1 for the fund"]


def test_the_ledger_lists_entries_newest_first_with_the_running_balance(history, finance):
    response = finance.get(reverse(LEDGER))
    assert response.status_code == 200
    entries = list(response.context["page"].object_list)
    got = [(e.kind, e.amount, D(e.balance_after).quantize(D("0.01"))) for e in entries]
    assert got == [
        ("adjustment", D("-5.00"), D("107.50")),
        ("donation", D("15.00"), D("112.50")),  # the card gift, Feb 20 at 3 pm
        ("award_returned", D("12.50"), D("97.50")),  # Feb 20 at 9 am
        ("award", D("-12.50"), D("85.00")),
        ("award", D("-12.50"), D("97.50")),
        ("donation", D("20.00"), D("110.00")),
        ("donation", D("30.00"), D("90.00")),
        ("donation", D("50.00"), D("60.00")),
        ("donation", D("10.00"), D("10.00")),
    ]
    html = response.content.decode()
    assert "Knot Tying (Summer 2026), registration #" in html and "Check 1042 counted twice" in html
    assert "Fran Finance" in html
    for name in ATTENDEES:
        assert name not in html


def test_the_ledger_is_paginated(finance):
    for i in range(LEDGER_PAGE_SIZE + 3):
        fund_donation_record(amount=D("1.00"), dedupe_key=f"t:{i}", now=local_dt(dt.date(2026, 1, 1), 9, i % 60))
    first = finance.get(reverse(LEDGER))
    assert len(first.context["page"].object_list) == LEDGER_PAGE_SIZE
    last = finance.get(reverse(LEDGER), {"page": "2"})
    assert [D(e.balance_after) for e in last.context["page"].object_list] == [D("3"), D("2"), D("1")]
    assert finance.get(reverse(LEDGER), {"page": "junk"}).status_code == 200


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"start": "2026-03-01", "end": "2026-02-01"}, "end", "before the first day"),
    ({"start": "2026-13-45"}, "start", "Enter a date like"),
    ({"end": ""}, "end", "Enter the last day"),
    ({"start": "9999-12-31", "end": "9999-12-31"}, "start", "from 2000 to 2099"),
    ({"start": "2024-01-01", "end": "2026-01-01", "by": "day"}, "end", "at most 366 days"),
    ({"start": "2000-01-01", "end": "2026-01-01"}, "end", "at most 10 years"),
    ({"by": "year"}, "by", "Choose month or day"),
])
def test_a_bad_range_is_shown_on_its_field(finance, query, field, message):
    response = finance.get(reverse(REPORT), {**Q1, **query})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and re.search(rf'aria-describedby="[^"]*id_{field}_error', html)
    csv_response = finance.get(reverse(REPORT), {**Q1, **query, "format": "csv", "table": "balance"})
    assert csv_response.status_code == 400


def test_an_unknown_csv_table_is_a_bad_request(finance):
    assert finance.get(reverse(REPORT), {**Q1, "format": "csv", "table": "secrets"}).status_code == 400


# --- who may open what --------------------------------------------------------------------------

@pytest.mark.parametrize("name", [REPORT, LEDGER, ADJUST])
def test_anonymous_visitors_are_sent_to_the_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/?next=")


@pytest.mark.parametrize("query", [{}, {"format": "csv", "table": "donors"}])
@pytest.mark.parametrize("name", [REPORT, LEDGER, ADJUST])
def test_the_front_desk_cannot_open_the_fund_pages(history, desk, name, query):
    """No money reports for the front desk: who gave, who got a scholarship, the ledger."""
    response = desk.get(reverse(name), query)
    assert response.status_code == 403
    assert b"Ada Lopez" not in response.content


@pytest.mark.parametrize("role", [FINANCE, COORDINATOR])
@pytest.mark.parametrize("name", [REPORT, LEDGER, ADJUST])
def test_finance_and_the_coordinator_open_the_fund_pages(django_user_model, role, name):
    client = role_client(django_user_model, role, "boss")
    assert client.get(reverse(name)).status_code == 200


def test_the_roles_hold_the_adjustment_permission(django_user_model):
    assert role_client(django_user_model, FINANCE, "f").user.has_perm("finance.adjust_fund")
    assert role_client(django_user_model, COORDINATOR, "c").user.has_perm("finance.adjust_fund")
    assert not role_client(django_user_model, FRONT_DESK, "d").user.has_perm("finance.adjust_fund")


def test_the_front_desk_cannot_adjust_the_fund(desk):
    fund_donation_record(amount=D("50.00"), dedupe_key="t:seed")
    response = desk.post(reverse(ADJUST), {"amount": "-50.00", "reason": "Taking it"})
    assert response.status_code == 403
    assert FundEntry.objects.count() == 1 and fund_balance() == D("50.00")


def test_the_dashboard_links_the_report_for_those_who_may_open_it(finance, desk):
    link = f'href="{reverse(REPORT)}"'
    assert link in finance.get(reverse("admin:index")).content.decode()
    assert link not in desk.get(reverse("admin:index")).content.decode()


def test_the_adjust_link_is_shown_only_with_the_permission(finance, django_user_model):
    link = f'href="{reverse(ADJUST)}"'
    assert link in finance.get(reverse(LEDGER)).content.decode()
    reader = role_client(django_user_model, None, "reader")
    reader.user.user_permissions.add(Permission.objects.get(codename="view_money_reports"))
    page = reader.get(reverse(LEDGER))
    assert page.status_code == 200 and link not in page.content.decode()
    assert reader.get(reverse(ADJUST)).status_code == 403


# --- the adjustment form ----------------------------------------------------------------------------

@pytest.fixture
def funded(finance):
    fund_donation_record(amount=D("100.00"), dedupe_key="t:seed")
    return finance


@pytest.mark.parametrize(("amount", "words"), [
    ("25", "$25.00"), ("-25.50", "−$25.50"), ("+$1,000.00", "$1,000.00"), (" -7 ", "−$7.00"),
    ("\u22123.10", "−$3.10"), (".5", "$0.50"), ("-100", "−$100.00"),
])
def test_an_adjustment_is_booked_with_its_reason_and_who_made_it(funded, amount, words):
    response = funded.post(reverse(ADJUST), {"amount": amount, "reason": "  Recount of the cash box  "})
    assert response.status_code == 302 and response["Location"] == reverse(ADJUST)
    entry = FundEntry.objects.get(kind=FundEntry.Kind.ADJUSTMENT)
    assert entry.amount == parse_signed_amount(amount)
    assert (entry.reason, entry.created_by) == ("Recount of the cash box", funded.user)
    assert fund_balance() == D("100.00") + entry.amount
    page = funded.get(response["Location"])
    assert f"Adjustment of {words} recorded" in page.content.decode()


BAD_AMOUNTS = [
    ("", "Enter the amount"),
    ("   ", "Enter the amount"),
    ("0", "must not be zero"),
    ("-0.00", "must not be zero"),
    ("ten dollars", "dollars and cents"),
    ("1e9", "dollars and cents"),
    ("NaN", "dollars and cents"),
    ("-Infinity", "dollars and cents"),
    ("12.345", "at most 2 decimals"),
    ("1,00", "dollars and cents"),
    ("--5", "dollars and cents"),
    ("$", "dollars and cents"),
    ("100000000", "too large"),
    ("-99999999999999999999999999999", "too large"),
    ("-100.01", "has $100.00"),  # more than the fund holds
]


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_a_bad_amount_is_shown_on_its_field_and_writes_nothing(funded, amount, message):
    response = funded.post(reverse(ADJUST), {"amount": amount, "reason": "Correction"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["amount"] and message in " ".join(errors["amount"]), errors
    html = response.content.decode()
    assert 'id="id_amount_error"' in html
    assert 'aria-describedby="id_amount_helptext id_amount_error"' in html and 'aria-invalid="true"' in html
    assert FundEntry.objects.count() == 1 and fund_balance() == D("100.00")


@pytest.mark.parametrize(("reason", "message"), [("", "Say why"), ("   ", "Say why"), ("x" * 301, "at most 300")])
def test_a_missing_or_long_reason_is_shown_on_its_field_and_writes_nothing(funded, reason, message):
    response = funded.post(reverse(ADJUST), {"amount": "5.00", "reason": reason})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["reason"] and message in " ".join(errors["reason"])
    assert 'id="id_reason_error"' in response.content.decode()
    assert FundEntry.objects.count() == 1 and fund_balance() == D("100.00")


def test_a_post_without_fields_is_a_form_error_not_a_crash(funded):
    response = funded.post(reverse(ADJUST), {})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"amount", "reason"}
    assert FundEntry.objects.count() == 1


# --- a constant number of queries ---------------------------------------------------------------

def _grow(clerk, n: int, start: int = 0) -> None:
    """``n`` more gifts (cash, check and card), courses with an award, and adjustments, in Q1 2026."""
    semester = SemesterFactory(name=f"Term {start}")
    for i in range(start, start + n):
        when = local_dt(dt.date(2026, 1 + i % 3, 1 + i % 27), 10)
        if i % 3 == 2:
            card_gift(when, "20.00", first_name=f"Card{i}", last_name="Giver")
        else:
            give(clerk, when, "20.00", first=f"Giver{i}", method="check" if i % 3 else "cash",
                 reference=f"{1000 + i}", anonymous=i % 4 == 0, dedication=f"For {i}")
        registration = award(CourseFactory(semester=semester), when, "5.00")
        if i % 2:
            Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.CANCELLED)
            fund_award_return(registration=registration, now=when + dt.timedelta(hours=1))
        fund_adjust(amount=D("1.00"), reason=f"Found {i}", by=clerk, now=when + dt.timedelta(hours=2))


def _count(client, url: str, data: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)
    assert response.status_code == 200
    return len(queries)


PAGES = [
    (REPORT, Q1), (REPORT, {**Q1, "by": "day"}), (LEDGER, {}), (ADJUST, {}),
    *[(REPORT, {**Q1, "format": "csv", "table": t}) for t in ("balance", "donations", "awards", "donors", "publication")],
]


def test_the_pages_use_the_same_number_of_queries_for_2_or_20_courses_and_gifts(finance):
    _grow(finance.user, 2)
    for name, data in PAGES:  # once first: per-process caches (content types, site options) fill up
        _count(finance, reverse(name), data)
    few = [_count(finance, reverse(name), data) for name, data in PAGES]
    _grow(finance.user, 18, start=2)
    many = [_count(finance, reverse(name), data) for name, data in PAGES]
    assert many == few
    assert fr.fund_balance_over_time(start=JAN, end=dt.date(2026, 3, 31)).current == fund_balance()
    assert max(few) <= 12


def test_each_selector_is_a_fixed_number_of_queries(finance, django_assert_num_queries):
    _grow(finance.user, 6)
    end = dt.date(2026, 3, 31)
    with django_assert_num_queries(2):
        fr.fund_balance_over_time(start=JAN, end=end, by=fr.DAY)
    with django_assert_num_queries(1):
        fr.fund_donations_by_month(start=JAN, end=end)
    with django_assert_num_queries(2):
        fr.fund_awards_by_course(start=JAN, end=end)
    with django_assert_num_queries(1):
        fr.fund_names_for_publication(fr.fund_donors(start=JAN, end=end))
    with django_assert_num_queries(1):
        assert len(list(fr.fund_ledger())) == 6 * 3 + 6 // 2
