"""Checkout friction in a real browser (issue 10 §6): the count of attendees applies itself with
scripts (no "Update", no reload, focus kept) and still works without them; "Myself" takes the
buyer's name; the running total follows the scholarship boxes and mentions the waitlist only
when a place is on it; and at phone width (360 px) the cart's Remove button and the desk form's
"Attendee is" column are whole.

Screenshots (looked at by hand when this changes): /tmp/friction-checkout.png,
/tmp/friction-cart-360.png, /tmp/friction-desk-360.png.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from enrollment.models import EnrollmentOptions, Order, ReferralSource, Registration
from tests.factories import RegistrationFactory, SemesterFactory, course_with_meetings, local_dt, today
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

from .pages import add_to_cart, attendee  # noqa: E402
from .test_desk_browser import PASSWORD, USERNAME, desk  # noqa: E402,F401  (the desk fixture)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")


@pytest.fixture
def courses(transactional_db):
    ReferralSource.objects.get_or_create(name="Library website", defaults={"position": 1})
    EnrollmentOptions.objects.update(scholarship_limit=2)
    semester = SemesterFactory(name="Fall Friction", slug="fall-friction")
    first = local_dt(today() + dt.timedelta(days=28), 18, 30)
    bread = course_with_meetings(semester=semester, title="Bread Baking", slug="bread-baking",
                                 fee=Decimal("40.00"), capacity=2, minimum=1, first=first, weekly=2)
    return bread


def test_the_count_applies_itself_keeps_focus_fills_myself_and_totals(page: Page, live_url, courses):
    bread = courses
    add_to_cart(page, live_url, bread.title)
    page.goto(f"{live_url}{reverse('enrollment:checkout')}")
    block = page.get_by_role("group", name=bread.title, exact=True)
    expect(block.get_by_role("button", name=f"Update the number of attendees for {bread.title}")).to_be_hidden()
    total = page.locator("#checkout-total")
    expect(total).to_contain_text("Total: $40.00")
    expect(page.get_by_text("(waitlist places are not charged)")).to_be_hidden()

    # "Myself" takes the buyer's name as it is typed.
    buyer = page.get_by_role("group", name="Your details")
    buyer.get_by_label("First name").fill("Jordan")
    buyer.get_by_label("Last name").fill("Rivera")
    expect(attendee(page, bread.title, 1).get_by_label("First name")).to_have_value("Jordan")
    expect(attendee(page, bread.title, 1).get_by_label("Last name")).to_have_value("Rivera")

    # Three attendees: no reload, focus stays on the count, the forms appear, one goes on the waitlist.
    page.evaluate("window.__same_page = true")
    count = block.get_by_label("Attendees for this class")
    count.focus()
    count.select_option("3")
    expect(attendee(page, bread.title, 3)).to_be_visible()
    assert page.evaluate("window.__same_page") is True  # no navigation happened
    assert page.evaluate("document.activeElement.name") == "class0-attendees"
    expect(total).to_contain_text("Total: $80.00")
    expect(page.get_by_text("(waitlist places are not charged)")).to_be_visible()
    expect(block.get_by_label("Put anyone without a seat on the waitlist")).to_be_visible()

    # A scholarship seat is half price in the total, in so many words.
    attendee(page, bread.title, 2).get_by_label("First name").fill("Avery")
    attendee(page, bread.title, 2).get_by_label("Last name").fill("Rivera")
    attendee(page, bread.title, 2).get_by_label("Ask for a Pass the Buck scholarship: pay half ($20.00)").check()
    expect(total).to_contain_text("Total: $60.00")
    expect(total).to_contain_text("1 seat at half price with a Pass the Buck scholarship")
    attendee(page, bread.title, 2).get_by_label("Ask for a Pass the Buck scholarship: pay half ($20.00)").uncheck()
    expect(total).to_contain_text("Total: $80.00")
    expect(page.locator("#checkout-total-half")).to_be_hidden()

    # Back to two: no waitlist, and the order placed has exactly two attendees.
    count.select_option("2")
    expect(attendee(page, bread.title, 3)).to_be_hidden()
    expect(page.get_by_text("(waitlist places are not charged)")).to_be_hidden()
    # "Myself" no more: the name we filled in goes, what the patron typed stays.
    attendee(page, bread.title, 1).get_by_label("This attendee is").select_option(label="A family member")
    expect(attendee(page, bread.title, 1).get_by_label("First name")).to_have_value("")
    attendee(page, bread.title, 1).get_by_label("First name").fill("Sam")
    attendee(page, bread.title, 1).get_by_label("Last name").fill("Rivera")
    attendee(page, bread.title, 2).get_by_label("This attendee is").select_option(label="Myself")
    expect(attendee(page, bread.title, 2).get_by_label("First name")).to_have_value("Avery")  # typed: kept
    attendee(page, bread.title, 2).get_by_label("First name").fill("Jordan")
    buyer.get_by_label("E-mail").fill("jordan.rivera@example.org")
    buyer.get_by_label("Phone").fill("785-555-0142")
    page.get_by_label("How did you hear about us?").select_option(label="Library website")
    page.screenshot(path=str(SCREENSHOTS / "friction-checkout.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()
    order = Order.objects.get(email="jordan.rivera@example.org")
    assert sorted(order.registrations.values_list("attendee_first_name", "relationship", "status")) == [
        ("Jordan", "self", Registration.Status.HELD), ("Sam", "family", Registration.Status.HELD)]
    expect(page.locator("h1")).to_have_text("Pay for your registration")


def test_without_scripts_the_update_button_still_works(browser, live_url, courses):
    bread = courses
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_url}{bread.get_absolute_url()}")
        with page.expect_navigation():
            page.get_by_role("button", name="Register", exact=True).click()
        page.goto(f"{live_url}{reverse('enrollment:checkout')}")
        block = page.get_by_role("group", name=bread.title, exact=True)
        expect(attendee(page, bread.title, 2)).to_be_hidden()
        block.get_by_label("Attendees for this class").select_option("2")
        with page.expect_navigation():
            block.get_by_role("button", name=f"Update the number of attendees for {bread.title}").click()
        expect(page.get_by_text("We updated the attendee forms. Fill them in, then continue.")).to_be_visible()
        expect(attendee(page, bread.title, 2)).to_be_visible()
        expect(page.locator("#checkout-total")).to_contain_text("Total: $80.00")
    finally:
        context.close()


def _inside_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_at_phone_width_the_cart_remove_button_is_whole(browser, live_url, courses):
    bread = courses
    knife = course_with_meetings(semester=bread.semester, title="Knife Skills and Kitchen Safety for Beginners",
                                 slug="knife-skills", fee=Decimal("25.00"), capacity=10,
                                 first=local_dt(today() + dt.timedelta(days=30), 18, 30), weekly=4)
    RegistrationFactory(course=knife)
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    try:
        page = context.new_page()
        add_to_cart(page, live_url, bread.title)
        add_to_cart(page, live_url, knife.title)
        for title in (bread.title, knife.title):
            button = page.get_by_role("button", name=f"Remove {title}")
            expect(button).to_be_visible()
            assert _inside_viewport(page, button), button.bounding_box()
        page.screenshot(path=str(SCREENSHOTS / "friction-cart-360.png"), full_page=True)
    finally:
        context.close()


def test_at_phone_width_the_desk_attendee_is_column_is_not_clipped(browser, live_url, desk):  # noqa: F811
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{live_url}/staff/login/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{live_url}{reverse('desk:register')}")
        select = page.locator("#id_row0-relationship")
        select.select_option(label="A friend (gift)")
        # The select is at least as wide as it is with room for its longest choice, so no choice
        # is cut; the column's heading is whole too.
        fits = select.evaluate("""(el) => {
            const probe = el.cloneNode(true);
            probe.style.cssText = 'position:absolute; visibility:hidden; width:auto; min-width:0';
            document.body.appendChild(probe);
            const needed = probe.getBoundingClientRect().width;
            probe.remove();
            return {needed: needed, has: el.getBoundingClientRect().width};
        }""")
        assert fits["has"] + 0.5 >= fits["needed"], fits
        heading = page.get_by_role("columnheader", name="Attendee is")
        assert heading.evaluate("(el) => el.scrollWidth <= el.clientWidth"), heading.bounding_box()
        # And the page itself does not scroll sideways: the table scrolls inside its fieldset.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(SCREENSHOTS / "friction-desk-360.png"), full_page=True)
    finally:
        context.close()
