"""Acceptance of a Pass the Buck scholarship, end to end in a real browser: a patron asks for a
scholarship at checkout, pays half by card on localstripe, and the confirmation shows the half
price; the fund paid the other half. And when the fund is short: the kind message with its two
choices, and "Register at full price" goes on to pay the full fee."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from enrollment.models import Order, ReferralSource, Registration
from finance.models import FundEntry, Payment
from finance.services.fund import fund_balance, fund_donation_record
from tests.factories import SemesterFactory, course_with_meetings, local_dt, today
from tests.localstripe_server import localstripe_server, stripe_settings  # noqa: F401 (fixtures)
from tests.servers import require_playwright

require_playwright()
from playwright.sync_api import Page, expect  # noqa: E402

from .pages import add_to_cart, attendee, type_card  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]
S = Registration.Status


@pytest.fixture
def course(transactional_db):
    ReferralSource.objects.get_or_create(name="Library website", defaults={"position": 1})
    semester = SemesterFactory(name="Fall Scholarships", slug="fall-scholarships")
    return course_with_meetings(semester=semester, title="Watercolor Basics", slug="watercolor-basics",
                                fee=Decimal("40.00"), capacity=10, first=local_dt(today() + dt.timedelta(days=28), 18, 30),
                                weekly=2)


def _checkout(page: Page, live_url: str, course, *, scholarship: bool) -> None:
    add_to_cart(page, live_url, course.title)
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to checkout").click()
    buyer = page.get_by_role("group", name="Your details")
    buyer.get_by_label("First name").fill("Sam")
    buyer.get_by_label("Last name").fill("Ortiz")
    buyer.get_by_label("E-mail").fill("sam.ortiz@example.org")
    buyer.get_by_label("Phone").fill("785-555-0177")
    page.get_by_label("How did you hear about us?").select_option(label="Library website")
    person = attendee(page, course.title, 1)
    person.get_by_label("First name").fill("Sam")
    person.get_by_label("Last name").fill("Ortiz")
    box = person.get_by_label("Ask for a Pass the Buck scholarship: pay half ($20.00)")
    expect(box).to_be_visible()
    if scholarship:
        box.check()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()


def _pay(page: Page, amount: str) -> None:
    pay = page.get_by_role("button", name=f"Pay {amount}")
    expect(pay).to_be_enabled()
    type_card(page, "4242 4242 4242 4242")
    pay.click()


def test_a_patron_asks_for_a_scholarship_and_pays_half_by_card(
    page: Page, live_url: str, course, stripe_settings, queued,  # noqa: F811
):
    fund_donation_record(amount=Decimal("100.00"), dedupe_key="donation:browser-seed")
    _checkout(page, live_url, course, scholarship=True)

    order = Order.objects.get(email="sam.ortiz@example.org")
    expect(page).to_have_url(f"{live_url}{reverse('finance:pay', args=[order.pk])}")
    summary = page.get_by_role("table", name="Attendees, classes and prices")
    expect(summary).to_contain_text("half price with a Pass the Buck scholarship")
    expect(summary.get_by_role("row", name="Total due now")).to_contain_text("$20.00")
    _pay(page, "$20.00")

    expect(page).to_have_url(f"{live_url}{reverse('enrollment:order-confirmation', args=[order.pk])}",
                             timeout=15_000)
    expect(page.locator("h1")).to_have_text("You’re registered")
    table = page.get_by_role("table", name=f"Attendees and classes of order {order.reference}")
    expect(table).to_contain_text("$20.00")
    expect(table).to_contain_text("half price with a Pass the Buck scholarship")
    expect(page.get_by_text("Total paid: $20.00")).to_be_visible()

    registration = Registration.objects.get(order=order)
    assert registration.status == S.CONFIRMED and registration.price == Decimal("40.00")
    paid = sorted((p.provider, p.amount) for p in Payment.objects.filter(order=order, status="succeeded"))
    assert paid == [("card", Decimal("20.00")), ("scholarship", Decimal("20.00"))]  # the class's income is whole
    assert fund_balance() == Decimal("80.00")
    assert FundEntry.objects.filter(kind=FundEntry.Kind.AWARD, registration=registration).count() == 1


def test_when_the_fund_is_short_the_patron_can_register_at_full_price(
    page: Page, live_url: str, course, stripe_settings, queued,  # noqa: F811
):
    fund_donation_record(amount=Decimal("5.00"), dedupe_key="donation:browser-short")
    _checkout(page, live_url, course, scholarship=True)

    panel = page.get_by_role("region", name="About your scholarship")
    expect(panel).to_contain_text("can’t cover a scholarship for “Watercolor Basics” right now")
    expect(panel.get_by_role("button", name="Join the scholarship waitlist")).to_be_visible()
    assert not Order.objects.exists()  # nothing was placed
    with page.expect_navigation():
        panel.get_by_role("button", name="Register at full price").click()

    order = Order.objects.get(email="sam.ortiz@example.org")
    expect(page).to_have_url(f"{live_url}{reverse('finance:pay', args=[order.pk])}")
    _pay(page, "$40.00")
    expect(page.locator("h1")).to_have_text("You’re registered", timeout=15_000)
    assert fund_balance() == Decimal("5.00")
    assert not Payment.objects.filter(provider="scholarship").exists()
