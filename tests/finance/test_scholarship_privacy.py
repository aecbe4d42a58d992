"""Who received a Pass the Buck scholarship is seen only by the coordinator and Finance: the
rosters (on screen, printed, CSV), the instructor's roster e-mail, the public course page, the
week-out call list, and the front desk's order pages say nothing about it.

The public pages carry a "Give to Pass the Buck" link in their header and footer, so those are
compared with the same page before the scholarship seat existed: the scholarship may not add a
single mention. Staff pages are fetched as a Front desk user, whose menus have no fund links, so
no mention may appear at all."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classes.models import Course
from core.models import OutboxMessage, SiteOptions
from core.roles import FRONT_DESK, roles_sync
from enrollment.messages import instructor_roster_names, queue_instructor_roster
from enrollment.models import CallListEntry, Registration
from enrollment.services import registration_cancel
from enrollment.services.weekout import course_decide, week_out_run
from finance.models import Payment
from finance.services import refunds_settle
from finance.services.checkout import checkout_place
from finance.services.offline import desk_register
from tests.factories import course_with_meetings

from .scholarship_helpers import buyer, donate, install_fake_stripe, seat

pytestmark = pytest.mark.django_db

S = Registration.Status
#: What would give a scholarship away: the words, and the fund's half of the $25.00 fee.
TELLTALES = {
    "scholarship": re.compile(r"scholarship", re.I),
    "Pass the Buck": re.compile(r"pass\s+the\s+buck", re.I),
    "half price": re.compile(r"half[\s-]*(price|the fee)", re.I),
    "the fund": re.compile(r"\bfund\b", re.I),
    "$12.50": re.compile(r"12\.50"),
}


def telltales(text: str) -> dict[str, int]:
    return {name: len(pattern.findall(text)) for name, pattern in TELLTALES.items()}


WORDS = ("scholarship", "Pass the Buck", "half price", "the fund")


def assert_silent(text: str, where: str, *, only=tuple(TELLTALES)) -> None:
    found = {name: n for name, n in telltales(text).items() if n and name in only}
    assert not found, f"{where} mentions {found}"


@pytest.fixture(autouse=True)
def _site_options():
    SiteOptions.current()


@pytest.fixture
def front_desk_user(django_user_model):
    roles_sync(Group, Permission)
    user = django_user_model.objects.create_user("desk", "desk@library.example", "a-long-passw0rd", is_staff=True)
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    return user


@pytest.fixture
def front_desk(front_desk_user):
    client = Client()
    client.force_login(front_desk_user)
    return client


@pytest.fixture
def course():
    return course_with_meetings(title="Bread Baking", fee=Decimal("25.00"), capacity=12, minimum=2)


@pytest.fixture
def plain(course, front_desk_user):
    """Two full-price seats: one with e-mail, one without (the call list's)."""
    now = timezone.now()
    sam = desk_register(buyer=buyer("sam@example.org", first="Sam"), attendees=[seat(course, "Sam", "Plain",
                                                                                    scholarship=False)],
                        provider=Payment.Provider.CASH, actor=front_desk_user, now=now).registrations[0]
    pat = desk_register(buyer=buyer("", first="Pat", phone="785-555-0111"),
                        attendees=[seat(course, "Pat", "Phone", scholarship=False)],
                        provider=Payment.Provider.CASH, actor=front_desk_user, now=now).registrations[0]
    return {"sam": sam, "pat": pat}


@pytest.fixture
def helped(course, plain, front_desk_user, monkeypatch):
    """Two scholarship seats, confirmed and paid: one online by card, one at the desk in cash by
    a patron without e-mail."""
    now = timezone.now()
    donate("25.00")
    fake = install_fake_stripe(monkeypatch)
    alex = checkout_place(buyer=buyer("alex@example.org", first="Alex"), attendees=[seat(course, "Alex", "Helped")],
                          now=now).registrations[0]
    fake.pay(alex.order, now=now)
    nia = desk_register(buyer=buyer("", first="Nia", phone="785-555-0199"),
                        attendees=[seat(course, "Nia", "Noemail")], provider=Payment.Provider.CASH,
                        actor=front_desk_user, now=now).registrations[0]
    for r in (alex, nia):
        r.refresh_from_db()
        assert r.status == S.CONFIRMED and r.fund_paid == Decimal("12.50")
    return {"alex": alex, "nia": nia}


def roster_pages(client, course) -> dict[str, str]:
    pages = {
        "roster": client.get(reverse("rosters:course", args=[course.pk])),
        "printable roster": client.get(reverse("rosters:course-print", args=[course.pk])),
        "print all rosters": client.get(reverse("rosters:print"), {"semester": course.semester_id}),
        "roster CSV": client.get(reverse("rosters:course-csv", args=[course.pk])),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
    return {where: response.content.decode() for where, response in pages.items()}


def roster_content(text: str) -> str:
    """A roster page without the back office's menus: its roster tables or printed sheets (the
    CSV is all content)."""
    parts = re.findall(r'<section class="roster-sheet".*?</section>', text, re.S) or re.findall(
        r'<table[^>]*id="roster-[a-z]+".*?</table>', text, re.S)
    return "\n".join(parts) if parts else text


def test_the_rosters_do_not_tell_who_has_a_scholarship(front_desk, staff_client, course, helped):
    for client, who in ((front_desk, "Front desk"), (staff_client, "coordinator")):
        for where, text in roster_pages(client, course).items():
            for name in ("Alex", "Helped", "Nia", "Noemail", "Sam", "Plain"):
                assert name in text, (where, name)
            if who == "Front desk":
                assert_silent(text, f"{where} ({who})")
            else:  # the coordinator's menus link to the fund and its waitlist; the roster says nothing
                assert_silent(roster_content(text), f"{where} ({who})")


def test_the_instructors_roster_email_is_names_only(course, helped):
    names = instructor_roster_names(course)
    assert names == ["Alex Helped", "Nia Noemail", "Pat Phone", "Sam Plain"]
    queue_instructor_roster(course)
    message = OutboxMessage.objects.get(template="instructor_roster")
    for text in (message.subject, message.body_text, message.body_html):
        assert_silent(text, "the instructor's roster e-mail")
    assert "Alex Helped" in message.body_text and "Nia Noemail" in message.body_text


def test_the_public_course_page_adds_no_mention(client, course, plain, front_desk_user, monkeypatch):
    before = client.get(course.get_absolute_url())
    assert before.status_code == 200
    baseline = telltales(before.content.decode())
    assert baseline["Pass the Buck"]  # the site's "Give to Pass the Buck" link: why this page is compared

    now = timezone.now()
    donate("12.50")
    fake = install_fake_stripe(monkeypatch)
    alex = checkout_place(buyer=buyer("alex@example.org", first="Alex"), attendees=[seat(course, "Alex", "Helped")],
                          now=now).registrations[0]
    fake.pay(alex.order, now=now)
    after = client.get(course.get_absolute_url()).content.decode()

    assert telltales(after) == baseline
    assert "Alex" not in after and "Helped" not in after


def test_the_call_list_tells_the_same_for_a_scholarship_seat_as_for_a_full_price_one(front_desk, course, helped,
                                                                                      front_desk_user):
    course_decide(course_id=course.pk, now=timezone.now(), actor=front_desk_user, force="run",
                  reason="Enough signed up")
    # Run before its cutoff, the class takes registrations until then; the reminders (and the
    # call list) come at the cutoff (issue 10).
    week_out_run(now=Course.objects.get(pk=course.pk).registration_closes_at + dt.timedelta(minutes=1))
    nia = CallListEntry.objects.get(registration__attendee_first_name="Nia")
    pat = CallListEntry.objects.get(registration__attendee_first_name="Pat")
    assert nia.script.replace("Nia Noemail", "X").replace("Nia Patron", "Y") == \
        pat.script.replace("Pat Phone", "X").replace("Pat Patron", "Y")
    assert_silent(nia.script, "the call script")
    for status in ("todo", "all"):
        response = front_desk.get(reverse("weekout:calls"), {"status": status})
        assert response.status_code == 200
        text = response.content.decode()
        assert "Nia Noemail" in text
        assert_silent(text, "the call list")


def test_the_call_list_of_a_cancelled_class_does_not_tell_either(front_desk, course, helped, front_desk_user):
    decision = course_decide(course_id=course.pk, now=timezone.now(), actor=front_desk_user, force="cancel",
                             reason="Instructor ill")
    for registration_id in decision.settle_ids:
        refunds_settle(registration_id=registration_id)
    nia = CallListEntry.objects.get(registration__attendee_first_name="Nia")
    assert_silent(nia.script, "the cancellation call script")
    assert_silent(front_desk.get(reverse("weekout:calls"), {"status": "all"}).content.decode(), "the call list")


def desk_pages(client, order) -> dict[str, str]:
    pages = {
        "desk order page": client.get(reverse("desk:order", args=[order.pk])),
        "desk printed receipt": client.get(reverse("desk:order-receipt", args=[order.pk])),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
    return {where: response.content.decode() for where, response in pages.items()}


def test_the_front_desks_order_pages_do_not_tell(front_desk, helped):
    """What the scholarship is may not be said (the figures: test_the_desk_sees_the_patrons_price)."""
    for who in ("alex", "nia"):
        for where, text in desk_pages(front_desk, helped[who].order).items():
            assert helped[who].attendee_name in text
            assert_silent(text, f"{where} ({who})", only=WORDS)


def test_the_front_desks_order_pages_do_not_tell_after_a_cancellation(front_desk, helped):
    nia = helped["nia"]
    registration_cancel(registration_id=nia.pk, now=timezone.now())
    refunds_settle(registration_id=nia.pk)
    for where, text in desk_pages(front_desk, nia.order).items():
        assert_silent(text, f"{where} after the scholarship seat was cancelled", only=WORDS)


def test_the_back_office_registration_page_does_not_tell_the_front_desk(front_desk, helped):
    for who in ("alex", "nia"):
        response = front_desk.get(reverse("admin:enrollment_registration_change", args=[helped[who].pk]))
        assert response.status_code == 200
        assert_silent(response.content.decode(), f"the registration's back-office page ({who})", only=WORDS)


# --- the desk sees the patron's own price: no line, amount or label of the award -----------------

def receipt_tables(text: str) -> dict[str, str]:
    """The receipt's three tables (items, payments, totals), tags stripped, spaces squeezed."""
    tables = {}
    for name in ("items", "payments", "totals"):
        match = re.search(rf'<table class="desk-table receipt-{name}">(.*?)</table>', text, re.S)
        assert match, name
        body = re.sub(r"<caption.*?</caption>", " ", match.group(1), flags=re.S)
        tables[name] = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    return tables


def payment_rows(text: str) -> int:
    body = re.search(r'<table class="desk-table receipt-payments">.*?<tbody>(.*?)</tbody>', text, re.S).group(1)
    return body.count("<tr")


def test_the_desk_sees_the_patrons_price(front_desk, helped):
    """Nia's seat ($25.00 class, half from the fund) reads at the desk as a $12.50 seat paid
    $12.50 in cash: one payment, nothing owed, no "Library credit", no $25.00."""
    for who, method in (("nia", "Cash"), ("alex", "Card")):
        for where, text in desk_pages(front_desk, helped[who].order).items():
            assert "Library credit" not in text and "25.00" not in text, (who, where)
            tables = receipt_tables(text)
            assert "$12.50" in tables["items"], (who, where, tables["items"])
            assert payment_rows(text) == 1 and method in tables["payments"], (who, where, tables["payments"])
            assert tables["totals"] == "Total $12.50 Paid $12.50 Balance due $0.00", (who, where)


def test_the_desk_sees_the_patrons_refund_after_a_cancellation(front_desk, helped):
    nia = helped["nia"]
    registration_cancel(registration_id=nia.pk, now=timezone.now())
    refunds_settle(registration_id=nia.pk)
    for where, text in desk_pages(front_desk, nia.order).items():
        assert "Library credit" not in text and "25.00" not in text, where
        tables = receipt_tables(text)
        assert payment_rows(text) == 2, (where, tables["payments"])  # the cash, and its refund
        assert tables["totals"] == "Total $0.00 Paid $12.50 Refunded −$12.50 Balance due $0.00", where


def test_the_emailed_desk_receipt_shows_the_patrons_price(front_desk, helped):
    alex = helped["alex"]
    response = front_desk.post(reverse("desk:order-receipt-email", args=[alex.order.pk]))
    assert response.status_code == 302
    message = OutboxMessage.objects.get(template="desk_receipt")
    for text in (message.body_text, message.body_html):
        assert_silent(text, "the desk receipt e-mail", only=WORDS)
        assert "Library credit" not in text and "25.00" not in text
    assert "Total: $12.50" in message.body_text and "Paid: $12.50" in message.body_text
    assert "Balance due: $0.00" in message.body_text


def test_finance_and_the_coordinator_see_the_split(staff_client, helped):
    text = staff_client.get(reverse("desk:order", args=[helped["nia"].order.pk])).content.decode()
    tables = receipt_tables(text)
    assert "Pass the Buck scholarship" in tables["payments"] and payment_rows(text) == 2
    assert tables["totals"] == "Total $25.00 Paid $25.00 Balance due $0.00"


def test_the_back_office_pages_show_the_desk_the_patrons_price(front_desk, staff_client, helped):
    nia = helped["nia"]
    registration = front_desk.get(reverse("admin:enrollment_registration_change", args=[nia.pk])).content.decode()
    order = front_desk.get(reverse("admin:enrollment_order_change", args=[nia.order.pk])).content.decode()
    for where, text in (("registration", registration), ("order", order)):
        assert "Library credit" not in text and "25.00" not in text, where
        assert "12.50" in text, where
    trail = re.search(r'id="registration-payments".*?</fieldset>', registration, re.S).group(0)
    assert trail.count("<tr") == 2  # the header and Nia's cash
    full = staff_client.get(reverse("admin:enrollment_registration_change", args=[nia.pk])).content.decode()
    assert "Pass the Buck scholarship" in full and "25.00" in full


@pytest.mark.parametrize("what", ["confirmed", "cancelled", "class cancelled", "cancelled, award not yet back"])
def test_the_patrons_receipt_adds_up_to_the_orders_balance(helped, front_desk_user, course, what):
    from finance.balances import order_balance
    from finance.services.offline import order_receipt

    nia = helped["nia"]
    if what == "class cancelled":
        decision = course_decide(course_id=course.pk, now=timezone.now(), actor=front_desk_user, force="cancel",
                                 reason="Instructor ill")
        for registration_id in decision.settle_ids:
            refunds_settle(registration_id=registration_id)
    elif what.startswith("cancelled"):
        registration_cancel(registration_id=nia.pk, now=timezone.now())
        if what == "cancelled":
            refunds_settle(registration_id=nia.pk)
    for order in (nia.order, helped["alex"].order):
        receipt = order_receipt(order)
        assert receipt.balance.due == order_balance(order).due, what
        assert sum(line.charge for line in receipt.lines) == receipt.balance.charges, what
        assert sum(p.amount - p.gift_amount for p in receipt.payments) == receipt.balance.paid, what
        assert sum(r.amount for r in receipt.refunds) == receipt.balance.refunded, what
        assert all(p.provider != Payment.Provider.SCHOLARSHIP for p in receipt.payments)
