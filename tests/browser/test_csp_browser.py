"""The Content-Security-Policy in a real browser: walking the main pages — catalog, a class, the
cart, checkout, paying on localstripe, the gift's card step, the back office's dashboard, a
course's change page, the outbox, the desk (with its searchable class list), a roster and the
money reports — raises no CSP violation, and every page's own scripts still run (the card field
mounts, select2 turns the class list searchable, the payment goes through).

Violations are caught two ways: a ``securitypolicyviolation`` listener added by Playwright before
any page script (init scripts are not subject to the page's policy) reporting through an exposed
function, and Chromium's console messages about refused resources. A control test injects an
inline script to show the listener does catch one."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from enrollment.models import Order, ReferralSource
from tests.factories import SemesterFactory, course_with_meetings, local_dt, today
from tests.localstripe_server import localstripe_server, stripe_settings  # noqa: F401 (fixtures)
from tests.servers import require_playwright

require_playwright()
from playwright.sync_api import Page, expect  # noqa: E402

from .pages import add_to_cart, attendee, card_field, type_card  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]

LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(" "));
}, true);
"""


@pytest.fixture
def violations(page: Page) -> list[str]:
    found: list[str] = []
    page.context.expose_function("__cspViolation", lambda text: found.append(f"{page.url}: {text}"))
    page.context.add_init_script(LISTENER)
    page.on("console", lambda message: found.append(f"{page.url}: console: {message.text}")
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text else None)
    return found


@pytest.fixture
def site(transactional_db, django_user_model):
    ReferralSource.objects.get_or_create(name="Library website", defaults={"position": 1})
    semester = SemesterFactory(name="Fall CSP", slug="fall-csp")
    course = course_with_meetings(semester=semester, title="Bread Baking", slug="bread-baking", fee=Decimal("40.00"),
                                  capacity=10, first=local_dt(today() + dt.timedelta(days=28), 18, 30), weekly=2)
    django_user_model.objects.create_superuser("coord", "coord@library.example", "Coordinator-passw0rd")
    return course


def test_the_listener_catches_a_violation(page: Page, live_url: str, violations, site):
    page.goto(f"{live_url}/")
    with pytest.raises(Exception):  # noqa: B017  (the browser refuses the inline script)
        page.add_script_tag(content="window.__inlineRan = true;")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__inlineRan === undefined")
    assert any("script-src" in v for v in violations), violations


def test_walking_the_main_pages_raises_no_csp_violation(page: Page, live_url: str, violations, site,
                                                        stripe_settings, queued):  # noqa: F811
    course = site
    # --- public pages, checkout and payment on localstripe ---------------------------------------
    page.goto(f"{live_url}/")
    add_to_cart(page, live_url, course.title)  # the catalog, the class's page, the cart
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to checkout").click()
    buyer = page.get_by_role("group", name="Your details")
    buyer.get_by_label("First name").fill("Jordan")
    buyer.get_by_label("Last name").fill("Rivera")
    buyer.get_by_label("E-mail").fill("jordan.csp@example.org")
    buyer.get_by_label("Phone").fill("785-555-0142")
    page.get_by_label("How did you hear about us?").select_option(label="Library website")
    attendee(page, course.title, 1).get_by_label("First name").fill("Jordan")
    attendee(page, course.title, 1).get_by_label("Last name").fill("Rivera")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()
    order = Order.objects.get(email="jordan.csp@example.org")
    expect(page.locator("h1")).to_have_text("Pay for your registration")
    expect(card_field(page).get_by_placeholder("number", exact=True)).to_be_visible()  # Stripe.js ran
    type_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page).to_have_url(f"{live_url}{reverse('enrollment:order-confirmation', args=[order.pk])}",
                             timeout=15_000)
    page.goto(f"{live_url}/my/")

    # --- the gift's card step --------------------------------------------------------------------
    page.goto(f"{live_url}/give/")
    page.get_by_role("group", name="Choose an amount").get_by_label("$25", exact=True).check()
    about = page.get_by_role("group", name="About you")
    about.get_by_label("First name").fill("Ada")
    about.get_by_label("Last name").fill("Lopez")
    about.get_by_label("E-mail").fill("ada.csp@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()
    expect(card_field(page).get_by_placeholder("number", exact=True)).to_be_visible()

    # --- the back office -------------------------------------------------------------------------
    page.goto(f"{live_url}/staff/login/")
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill("Coordinator-passw0rd")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_url}/staff/")
    for url in (
        reverse("admin:classes_course_change", args=[course.pk]),
        reverse("admin:classes_course_changelist"),
        reverse("admin:core_outboxmessage_changelist"),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("desk:home"),
        reverse("money:deposit-report"),
        reverse("money:fund-report"),
        reverse("rosters:index"),
        reverse("weekout:calls"),
    ):
        page.goto(f"{live_url}{url}")
        expect(page.locator("#content")).to_be_visible()
    # the admin's own scripts ran: the date/time shortcuts of the meetings
    page.goto(f"{live_url}{reverse('admin:classes_course_change', args=[course.pk])}")
    expect(page.locator(".datetimeshortcuts").first).to_be_attached()
    # the desk's register page: select2 (the admin's) made the class list searchable
    page.goto(f"{live_url}{reverse('desk:register')}")
    expect(page.locator("tr.desk-row").first.locator(".select2-selection")).to_be_visible()
    # a print button works from the static script
    page.goto(f"{live_url}{reverse('money:deposit-report')}")
    page.evaluate("window.print = function () { window.__printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed === true")

    page.wait_for_timeout(300)
    assert violations == [], "\n".join(violations)
