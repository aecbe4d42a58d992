"""Acceptance of the front desk, end to end, in a real browser: a front-desk staff member logs in
to the back office, registers a walk-in attendee for a class, paid by check, prints the receipt,
and finds the attendee on the class roster.

Screenshots (looked at by hand when this changes): /tmp/desk-order.png, /tmp/desk-receipt-screen.png,
/tmp/desk-receipt-print.png (print media), /tmp/desk-roster.png.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

from core import tasks as core_tasks
from core.models import SiteOptions
from core.roles import FRONT_DESK, roles_sync
from enrollment.models import Order, Registration
from finance.models import Payment
from tests.factories import SemesterFactory, course_with_meetings, local_dt, today
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
USERNAME, PASSWORD = "dana.desk", "Front-desk-passw0rd"
WALK_IN = {"first": "Marisol", "last": "Vega", "phone": "785-555-0177", "email": "marisol.vega@example.org"}
CHECK_NUMBER = "3318"


@pytest.fixture
def desk(transactional_db, django_user_model, monkeypatch):
    """The library's name and address, a Front desk member with a password, an open class with
    three meetings. (The live server's database is flushed between tests: the groups come back
    with the post-migrate sync, or are made here.)"""
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda *args, **kwargs: None)
    options = SiteOptions.current()
    options.library_name = "Salina Public Library"
    options.program_name = "Lifelong Learning"
    options.street_address = "301 W Elm St"
    options.city_state_zip = "Salina, KS 67401"
    options.phone = "785-555-0199"
    options.save()
    if not Group.objects.filter(name=FRONT_DESK).exists():
        roles_sync(Group, Permission)
    user = django_user_model.objects.create_user(USERNAME, "dana@library.example", PASSWORD, is_staff=True,
                                                 first_name="Dana", last_name="Desk")
    user.groups.add(Group.objects.get(name=FRONT_DESK))
    semester = SemesterFactory(name="Spring Desk", slug="spring-desk", is_published=True)
    course = course_with_meetings(semester=semester, title="Watercolor Basics", slug="watercolor-basics",
                                  fee=Decimal("30.00"), capacity=8, weekly=3,
                                  first=local_dt(today() + dt.timedelta(days=21), 18, 30))
    return user, course


def test_front_desk_registers_a_walk_in_paying_by_check(page: Page, live_url, desk):
    user, course = desk

    # Log in to the back office.
    page.goto(f"{live_url}/staff/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_url}/staff/")

    # To the desk: from the dashboard when it links there, else by its address.
    desk_link = page.get_by_role("link", name=re.compile(r"front desk", re.I))
    if desk_link.count():
        desk_link.first.click()
    else:
        page.goto(f"{live_url}/staff/desk/")
    expect(page.get_by_role("heading", name="Front desk")).to_be_visible()

    # A new patron, one attendee in the class, paid by check.
    page.get_by_role("link", name="Register a new patron").click()
    patron = page.locator("fieldset", has=page.get_by_role("heading", name="Patron"))
    patron.get_by_label("First name").fill(WALK_IN["first"])
    patron.get_by_label("Last name").fill(WALK_IN["last"])
    patron.get_by_label("E-mail").fill(WALK_IN["email"])
    patron.get_by_label("Phone").fill(WALK_IN["phone"])
    first_row = page.locator("tr.desk-row").first
    first_row.locator(".select2-selection").click()  # the searchable class list
    page.locator(".select2-search__field").fill("Watercolor")
    page.locator(".select2-results__option", has_text="Watercolor Basics").click()
    expect(page.locator("#id_row0-course")).to_have_value(str(course.pk))
    page.locator("#id_row0-first_name").fill(WALK_IN["first"])
    page.locator("#id_row0-last_name").fill(WALK_IN["last"])
    page.get_by_label("Check", exact=True).check()
    page.get_by_label("Check number").fill(CHECK_NUMBER)
    page.get_by_label("Amount taken").fill("30.00")
    page.get_by_role("button", name="Register", exact=True).click()

    # The order's desk page.
    order = Order.objects.get(email=WALK_IN["email"])
    expect(page).to_have_url(f"{live_url}/staff/desk/orders/{order.pk}/")
    expect(page.locator(".messagelist")).to_contain_text(f"Registered: order {order.reference}, 1 seat.")
    expect(page.locator(".messagelist")).to_contain_text("Check taken: $30.00.")
    expect(page.locator(".desk-balance-due")).to_contain_text("$0.00")
    page.screenshot(path=str(SCREENSHOTS / "desk-order.png"), full_page=True)
    [registration] = order.registrations.all()
    assert (registration.course, registration.status) == (course, Registration.Status.CONFIRMED)
    assert registration.attendee_name == f"{WALK_IN['first']} {WALK_IN['last']}"
    [payment] = order.payments.all()
    assert (payment.provider, payment.amount, payment.reference, payment.status, payment.taken_by) == (
        Payment.Provider.CHECK, Decimal("30.00"), CHECK_NUMBER, Payment.Status.SUCCEEDED, user)

    # Print the receipt.
    page.get_by_role("link", name="Print receipt").click()
    expect(page).to_have_url(f"{live_url}/staff/desk/orders/{order.pk}/receipt/")
    receipt = page.locator("article.receipt")
    expect(receipt).to_contain_text("Salina Public Library")
    expect(receipt).to_contain_text("301 W Elm St")
    expect(receipt.get_by_role("heading", name=f"Receipt — order {order.reference}")).to_be_visible()
    expect(receipt).to_contain_text(f"{WALK_IN['first']} {WALK_IN['last']}")  # patron and attendee
    items = receipt.locator("table.receipt-items tbody tr")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(f"{WALK_IN['first']} {WALK_IN['last']}")
    expect(items.first).to_contain_text("Watercolor Basics")
    expect(items.first).to_contain_text("$30.00")
    payments = receipt.locator("table.receipt-payments tbody tr")
    expect(payments).to_have_count(1)
    expect(payments.first).to_contain_text("Check")
    expect(payments.first).to_contain_text(CHECK_NUMBER)
    expect(payments.first).to_contain_text("$30.00")
    expect(payments.first).to_contain_text("Dana Desk")  # who took it
    expect(receipt.locator(".desk-balance-due")).to_contain_text("$0.00")
    page.screenshot(path=str(SCREENSHOTS / "desk-receipt-screen.png"), full_page=True)

    # It is laid out for paper: a print stylesheet hides the back office around the receipt.
    print_rules = page.evaluate("""() => Array.from(document.styleSheets).flatMap(sheet => {
        try { return Array.from(sheet.cssRules); } catch (e) { return []; }
    }).filter(rule => rule.media && Array.from(rule.media).includes("print")).length""")
    assert print_rules > 0, "the receipt has no print stylesheet"
    print_button = page.get_by_role("button", name="Print")
    expect(print_button).to_be_visible()
    expect(page.locator("#header")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#header")).to_be_hidden()
    expect(page.locator(".breadcrumbs")).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text(CHECK_NUMBER)
    page.screenshot(path=str(SCREENSHOTS / "desk-receipt-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # The class roster lists the attendee.
    page.goto(f"{live_url}/staff/rosters/")
    page.locator("#roster-courses").get_by_role("link", name="Watercolor Basics").click()
    expect(page).to_have_url(f"{live_url}/staff/rosters/courses/{course.pk}/")
    expect(page.get_by_role("heading", name="Roster: Watercolor Basics")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(rf"{WALK_IN['first']} {WALK_IN['last']}"))).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "desk-roster.png"), full_page=True)
