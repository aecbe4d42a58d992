"""axe-core on every page, one test id per page: any WCAG 2.0/2.1 level A or AA violation fails.

The public pages are reached as a patron reaches them (the catalog, a class, the cart, checkout
empty and with errors, the payment page on localstripe, the confirmation, "My registrations" by
following the e-mailed link, the cancel page by its link there, the /my/ link request, a gift
and its payment and thank-you pages, the 404); the back office as the program coordinator (one
login, kept in a saved storage state): the dashboard, every page under /staff/desk/,
/staff/money/, /staff/rosters/ and /staff/week-out/, and the model admin's list, add and change
pages for semesters, courses (one with six meetings), venues and instructors; and staff login.

For speed the data is built once for the module and one live server serves every page (the
per-test live server of pytest-django would flush and rebuild the database for each page):
``site`` writes it with the database unblocked, starts pytest-django's ``LiveServer`` itself, and
at the end puts the database back exactly as it found it (flushed, then reloaded from a snapshot
taken first, the way Django's ``serialized_rollback`` does), so the rows the data migrations
wrote are still there for the tests that run after.

A new page joins the scan with one entry in ``PAGES``: an id, the role ("patron", "staff" or
"anonymous staff") and a function ``(page, base_url, data)`` that opens it (``_goto(path)`` for a
plain address).
"""

import datetime as dt
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.models import SiteOptions
from enrollment.links import manage_url
from enrollment.models import CallListEntry, Order, ReferralSource
from enrollment.services import AttendeeInput, BuyerInput, order_place
from finance.models import Donation, Payment, Refund
from tests.factories import (
    CallListEntryFactory,
    CategoryFactory,
    CourseDecisionFactory,
    FundEntryFactory,
    FundFactory,
    InstructorFactory,
    OrderFactory,
    PaymentFactory,
    RefundFactory,
    RegistrationFactory,
    SemesterFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
    today,
)
from tests.localstripe_server import localstripe_server  # noqa: F401 (the fixture)
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

from .axe import assert_no_axe_violations, axe_violations  # noqa: E402

# ``django_db``: the test database is set up, and each test runs in a transaction rolled back after
# it (what a page does while scanned — a cart, a held seat — is undone; ``site``'s data stays).
pytestmark = [pytest.mark.browser, pytest.mark.stripe, pytest.mark.django_db]

STAFF_USER, STAFF_PASSWORD = "casey.coordinator", "Coordinator-passw0rd"
PATRON_EMAIL = "jordan.rivera@example.org"
SCREENSHOTS = Path(os.environ.get("AXE_SCREENSHOTS", "")) if os.environ.get("AXE_SCREENSHOTS") else None


# --- the data, once -------------------------------------------------------------------------

def _build() -> dict:
    options = SiteOptions.current()
    options.library_name = "Salina Public Library"
    options.street_address = "301 W Elm St"
    options.city_state_zip = "Salina, KS 67401"
    options.phone = "785-555-0199"
    options.save()
    ReferralSource.objects.get_or_create(name="Library website", defaults={"position": 1})
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    staff_user = get_user_model().objects.create_superuser(STAFF_USER, "casey@library.example", STAFF_PASSWORD)
    semester = SemesterFactory(name="Spring Scan", slug="spring-scan", is_published=True)
    category = CategoryFactory(name="Cooking", slug="cooking")
    venue = VenueFactory(name="Meeting Room A", slug="meeting-room-a")
    instructor = InstructorFactory(first_name="Robin", last_name="Baker")
    first = local_dt(today() + dt.timedelta(days=28), 18, 30)
    bread = course_with_meetings(semester=semester, category=category, venue=venue, instructor=instructor,
                                 title="Bread Baking", slug="bread-baking", fee=Decimal("40.00"), capacity=10,
                                 first=first, weekly=6)
    knife = course_with_meetings(semester=semester, category=category, venue=venue, instructor=instructor,
                                 title="Knife Skills", slug="knife-skills", fee=Decimal("25.00"), capacity=10,
                                 first=first + dt.timedelta(days=2), weekly=2)
    # A patron who paid by card: confirmation, "My registrations", the cancel page.
    order = OrderFactory(first_name="Jordan", last_name="Rivera", email=PATRON_EMAIL)
    paid = RegistrationFactory(order=order, course=bread, attendee_first_name="Jordan", attendee_last_name="Rivera")
    PaymentFactory(order=order, provider=Payment.Provider.CARD, amount=Decimal("40.00"), reference="pi_scan_1",
                   registrations=[paid])
    # A held seat waiting for its card payment: the payment page.
    held = order_place(
        buyer=BuyerInput(first_name="Casey", last_name="Nguyen", email="casey@example.org", phone="785-555-0177"),
        attendees=[AttendeeInput(course_id=knife.pk, first_name="Casey", last_name="Nguyen")],
    ).order
    # A desk order paid by check, a refund to issue, a call to make, a decision, a donation, the fund.
    desk_order = OrderFactory(first_name="Marisol", last_name="Vega", email="", channel=Order.Channel.DESK)
    desk_payment = PaymentFactory(order=desk_order, provider=Payment.Provider.CHECK, amount=Decimal("25.00"),
                                  registrations=[RegistrationFactory(order=desk_order, course=knife)])
    RefundFactory(payment=desk_payment, amount=Decimal("10.00"), status=Refund.Status.PENDING)
    CallListEntryFactory(registration__course=bread, topic=CallListEntry.Topic.REMINDER)
    CourseDecisionFactory()
    FundFactory()
    FundEntryFactory()
    donation = Donation.objects.create(first_name="Ada", last_name="Lopez", email="ada@example.org",
                                       amount=Decimal("25.00"), method=Donation.Method.CHECK, reference="1234",
                                       status=Donation.Status.SUCCEEDED, succeeded_at=timezone.now())
    card_gift = Donation.objects.create(first_name="Lee", last_name="Park", email="lee@example.org",
                                        amount=Decimal("20.00"), method=Donation.Method.CARD,
                                        status=Donation.Status.SUCCEEDED, succeeded_at=timezone.now())
    return {
        "semester": semester, "category": category, "venue": venue, "instructor": instructor,
        "bread": bread, "knife": knife, "order": order, "paid": paid, "held": held,
        "desk_order": desk_order, "donation": donation, "card_gift": card_gift,
        "meeting": bread.ordered_meetings()[0], "staff_user": staff_user,
        "group": Group.objects.order_by("pk").first(),
    }


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, localstripe_server, browser):  # noqa: F811
    """The data, a live server, Stripe pointed at localstripe, and the coordinator's saved login."""
    from pytest_django.live_server_helper import LiveServer

    stripe = override_settings(
        STRIPE_SECRET_KEY=localstripe_server.secret_key, STRIPE_PUBLISHABLE_KEY=localstripe_server.publishable_key,
        STRIPE_API_BASE=localstripe_server.base_url, STRIPE_WEBHOOK_SECRET=localstripe_server.webhook_secret,
        STRIPE_LOCAL_WEBHOOK_URL="",
    )
    with django_db_blocker.unblock(), stripe:
        before = {alias: connections[alias].creation.serialize_db_to_string() for alias in connections}
        data = _build()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        base = server.url.rstrip("/")
        links = override_settings(SITE_URL=base)  # e-mailed links lead to this server
        links.enable()
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            login = context.new_page()
            login.goto(f"{base}/staff/login/")
            login.get_by_label("Username").fill(STAFF_USER)
            login.get_by_label("Password").fill(STAFF_PASSWORD)
            with login.expect_navigation():
                login.get_by_role("button", name="Log in").click()
            expect(login).to_have_url(f"{base}/staff/")
            data["staff_state"] = context.storage_state()
            context.close()
            yield base, data
        finally:
            links.disable()
            server._live_server_modified_settings.disable()
            server.stop()
            for alias, snapshot in before.items():
                call_command("flush", database=alias, interactive=False, verbosity=0, reset_sequences=False,
                             inhibit_post_migrate=True)
                connections[alias].creation.deserialize_db_from_string(snapshot)
            connections.close_all()  # as a transactional test does: no session left on the test database


# --- how each page is reached ---------------------------------------------------------------

def _goto(path: str | Callable[[dict], str]) -> Callable:
    def reach(page: Page, base: str, data: dict) -> None:
        response = page.goto(base + (path(data) if callable(path) else path))
        assert response is not None and response.status < 500, response and response.status
    return reach


def _landing(path: Callable[[dict], str], heading: str) -> Callable:
    """Follow an e-mailed link (it may trade its token for a session and redirect) to its page."""
    def reach(page: Page, base: str, data: dict) -> None:
        _goto(path)(page, base, data)
        expect(page.locator("h1")).to_have_text(heading)
    return reach


def _served(html: Callable[[], str], status: int) -> Callable:
    """A page the live server can't be made to answer on demand (the database outage page, the
    login lockout), as the app renders it, at an address of the live server: its stylesheets and
    scripts are the real ones."""
    def reach(page: Page, base: str, data: dict) -> None:
        url = f"{base}/scan-rendered-page/"
        page.route(url, lambda route: route.fulfill(status=status, content_type="text/html; charset=utf-8",
                                                    body=html()))
        response = page.goto(url)
        assert response is not None and response.status == status
    return reach


def _outage_html() -> str:
    from core.outage import outage_response

    return outage_response().content.decode()


def _server_error_html() -> str:
    from django.template.loader import render_to_string

    return render_to_string("500.html")


def _lockout_html() -> str:
    from django.conf import settings
    from django.template.loader import render_to_string

    return render_to_string(settings.AXES_LOCKOUT_TEMPLATE, {"username": "clerk"})


def _add_to_cart(page: Page, base: str, data: dict) -> None:
    page.goto(f"{base}{data['bread'].get_absolute_url()}")
    with page.expect_navigation():
        page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_text("“Bread Baking” is in your cart.")).to_be_visible()


def _checkout(page: Page, base: str, data: dict) -> None:
    _add_to_cart(page, base, data)
    page.goto(f"{base}{reverse('enrollment:checkout')}")
    expect(page.locator("h1")).to_have_text("Checkout")


def _checkout_errors(page: Page, base: str, data: dict) -> None:
    _checkout(page, base, data)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("[data-error-summary], .error-summary").first).to_be_visible()


def _pay(page: Page, base: str, data: dict) -> None:
    page.goto(f"{base}{reverse('finance:pay-link', args=[data['held'].token])}")  # the e-mailed link
    expect(page.get_by_role("group", name="Card number, expiry date, security code and ZIP")
           .get_by_placeholder("number", exact=True)).to_be_visible()  # Stripe.js mounted


def _my_registrations(page: Page, base: str, data: dict) -> None:
    """Follow the e-mailed link, as a patron would, and scan where it lands."""
    page.goto(manage_url(PATRON_EMAIL))
    expect(page.get_by_role("heading", name="Bread Baking").first).to_be_visible()


def _cancel(page: Page, base: str, data: dict) -> None:
    _my_registrations(page, base, data)
    with page.expect_navigation():
        page.get_by_role("link", name="Cancel").first.click()


def _give_pay(page: Page, base: str, data: dict) -> None:
    page.goto(f"{base}{reverse('finance:donate')}")
    page.get_by_role("group", name="Choose an amount").get_by_label("$25", exact=True).check()
    about = page.get_by_role("group", name="About you")
    about.get_by_label("First name").fill("Ada")
    about.get_by_label("Last name").fill("Lopez")
    about.get_by_label("E-mail").fill("ada.lopez@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("h1")).to_have_text("Pay for your gift")
    expect(page.get_by_role("group", name="Card number, expiry date, security code and ZIP")
           .get_by_placeholder("number", exact=True)).to_be_visible()


def _submit_empty(path: str | Callable[[dict], str], button: str) -> Callable:
    def reach(page: Page, base: str, data: dict) -> None:
        _goto(path)(page, base, data)
        with page.expect_navigation():
            page.get_by_role("button", name=button, exact=True).first.click()
    return reach


def _admin(model: str, what: str) -> Callable:
    app = "classes"
    obj = {"semester": "semester", "course": "bread", "venue": "venue", "instructor": "instructor"}[model]
    if what == "change":
        return _goto(lambda d: reverse(f"admin:{app}_{model}_change", args=[d[obj].pk]))
    return _goto(reverse(f"admin:{app}_{model}_{what}") if what != "list" else reverse(f"admin:{app}_{model}_changelist"))


def _course_change_confirm(page: Page, base: str, data: dict) -> None:
    """Moving a meeting of a class people registered for: the page that asks before telling them
    (nothing is saved; the test's transaction is rolled back anyway)."""
    page.goto(base + reverse("admin:classes_course_change", args=[data["bread"].pk]))
    page.locator("#id_meetings-0-starts_at_1").fill("19:00:00")
    page.locator("#id_meetings-0-ends_at_1").fill("20:30:00")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tell registrants about the change")


def _course_change_again(page: Page, base: str, data: dict) -> None:
    _course_change_confirm(page, base, data)
    with page.expect_navigation():
        page.get_by_role("button", name="Go back and edit").click()
    expect(page.get_by_text("Not saved yet: change what you need, then save again.")).to_be_visible()


PATRON, STAFF, ANONYMOUS_STAFF = "patron", "staff", "anonymous staff"

PAGES: list[tuple[str, str, Callable]] = [
    ("catalog-home", PATRON, _goto("/")),
    ("category", PATRON, _goto(lambda d: reverse("classes:category", args=[d["category"].slug]))),
    ("course", PATRON, _goto(lambda d: d["bread"].get_absolute_url())),
    ("cart-empty", PATRON, _goto("/cart/")),
    ("cart-with-items", PATRON, _add_to_cart),
    ("checkout-empty", PATRON, _goto("/checkout/")),
    ("checkout", PATRON, _checkout),
    ("checkout-with-errors", PATRON, _checkout_errors),
    ("pay", PATRON, _pay),
    ("confirmation", PATRON, _landing(lambda d: reverse("enrollment:order-confirmation-link", args=[d["order"].token]),
                                      "You’re registered")),
    ("my-registrations", PATRON, _my_registrations),
    ("cancel", PATRON, _cancel),
    ("my-link-request", PATRON, _goto("/my/")),
    ("my-link-request-errors", PATRON, _submit_empty("/my/", "Send me a link")),
    ("give", PATRON, _goto("/give/")),
    ("give-with-errors", PATRON, _submit_empty("/give/", "Continue to payment")),
    ("give-pay", PATRON, _give_pay),
    ("give-thanks", PATRON, _landing(lambda d: reverse("finance:donate-thanks-link", args=[d["card_gift"].token]),
                                     "Thank you for your gift")),
    ("catalog-search-all-semesters", PATRON, _goto("/?semester=all&q=bread")),
    # Pages opened without the session grant an e-mailed link gives: "open it from your e-mail".
    ("order-without-grant", PATRON, _goto(lambda d: reverse("enrollment:order-confirmation", args=[d["order"].pk]))),
    ("my-registrations-without-grant", PATRON, _goto(reverse("enrollment:my-registrations"))),
    ("gift-without-grant", PATRON, _goto(lambda d: reverse("finance:donate-thanks", args=[d["card_gift"].pk]))),
    ("404", PATRON, _goto("/no-such-page/")),
    ("server-error-500", PATRON, _served(_server_error_html, 500)),
    ("database-outage-503", PATRON, _served(_outage_html, 503)),
    ("staff-login", ANONYMOUS_STAFF, _goto("/staff/login/")),
    ("staff-login-locked-out", ANONYMOUS_STAFF, _served(_lockout_html, 429)),
    ("dashboard", STAFF, _goto("/staff/")),
    ("desk-home", STAFF, _goto(reverse("desk:home"))),
    ("desk-register", STAFF, _goto(reverse("desk:register"))),
    ("desk-register-with-errors", STAFF, _submit_empty(reverse("desk:register"), "Register")),
    ("desk-order", STAFF, _goto(lambda d: reverse("desk:order", args=[d["desk_order"].pk]))),
    ("desk-order-pay", STAFF, _goto(lambda d: reverse("desk:order-pay", args=[d["desk_order"].pk]))),
    ("desk-receipt", STAFF, _goto(lambda d: reverse("desk:order-receipt", args=[d["desk_order"].pk]))),
    ("money-refund", STAFF, _goto(lambda d: reverse("money:refund-create", args=[d["paid"].pk]))),
    ("money-transfer", STAFF, _goto(lambda d: reverse("money:registration-transfer", args=[d["paid"].pk]))),
    ("money-refunds-to-issue", STAFF, _goto(reverse("money:refunds-to-issue"))),
    ("money-deposits", STAFF, _goto(reverse("money:deposit-report"))),
    ("money-donation-new", STAFF, _goto(reverse("money:donation-create"))),
    ("money-donation", STAFF, _goto(lambda d: reverse("money:donation-detail", args=[d["donation"].pk]))),
    ("money-fund", STAFF, _goto(reverse("money:fund-report"))),
    ("money-fund-ledger", STAFF, _goto(reverse("money:fund-ledger"))),
    ("money-fund-adjust", STAFF, _goto(reverse("money:fund-adjust"))),
    ("rosters", STAFF, _goto(reverse("rosters:index"))),
    ("rosters-print", STAFF, _goto(reverse("rosters:print"))),
    ("roster", STAFF, _goto(lambda d: reverse("rosters:course", args=[d["bread"].pk]))),
    ("roster-print", STAFF, _goto(lambda d: reverse("rosters:course-print", args=[d["bread"].pk]))),
    ("attendance", STAFF, _goto(lambda d: reverse("rosters:attendance", args=[d["meeting"].pk]))),
    ("week-out", STAFF, _goto(reverse("weekout:index"))),
    ("week-out-calls", STAFF, _goto(reverse("weekout:calls"))),
    ("week-out-decide", STAFF, _goto(lambda d: reverse("weekout:decide", args=[d["knife"].pk]))),
    *[(f"admin-{model}-{what}", STAFF, _admin(model, what))
      for model in ("semester", "course", "venue", "instructor") for what in ("list", "add", "change")],
    ("admin-user-list", STAFF, _goto(reverse("admin:auth_user_changelist"))),
    ("admin-user-change", STAFF, _goto(lambda d: reverse("admin:auth_user_change", args=[d["staff_user"].pk]))),
    ("admin-group-list", STAFF, _goto(reverse("admin:auth_group_changelist"))),
    ("admin-group-change", STAFF, _goto(lambda d: reverse("admin:auth_group_change", args=[d["group"].pk]))),
    ("admin-login-attempts", STAFF, _goto(reverse("admin:axes_accessattempt_changelist"))),
    ("admin-course-change-confirm", STAFF, _course_change_confirm),
    ("admin-course-change-edit-again", STAFF, _course_change_again),
]


@pytest.mark.parametrize(("name", "role", "reach"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_wcag_a_or_aa_violations(name, role, reach, site, browser):
    base, data = site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                  storage_state=data["staff_state"] if role == STAFF else None)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        reach(page, base, data)
        if SCREENSHOTS:
            page.screenshot(path=str(SCREENSHOTS / f"axe-{name}.png"), full_page=True)
        assert_no_axe_violations(page)
    finally:
        context.close()


def test_the_scan_works_under_a_strict_content_security_policy(site, browser):
    """The page is sent with ``default-src 'self'; script-src 'self'``: an inline script is
    refused, and axe (injected through the DevTools protocol) still runs and still finds a
    violation planted in the page."""
    base, _ = site
    policy = "default-src 'self'; script-src 'self'"
    context = browser.new_context()
    try:
        page = context.new_page()

        def with_csp(route):
            response = route.fetch()
            route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})

        page.route(f"{base}/", with_csp)
        response = page.goto(f"{base}/")
        assert response.headers["content-security-policy"] == policy
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.inlineRan = true'; document.head.appendChild(s); }""")
        assert page.evaluate("() => window.inlineRan === undefined"), "the CSP did not apply"
        assert axe_violations(page) == []
        page.evaluate("""() => { const i = document.createElement('input'); i.type = 'text';
            document.querySelector('main').appendChild(i); }""")
        assert [v["id"] for v in axe_violations(page)] == ["label"]
    finally:
        context.close()
