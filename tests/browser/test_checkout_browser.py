"""Acceptance of the checkout, end to end, in a real browser: a patron browses the catalog, puts
two classes in the cart, checks out two attendees (three seats), pays by card on localstripe
through its fake Stripe.js, sees the confirmation page, and gets one confirmation e-mail with an
.ics per class on a real SMTP server (aiosmtpd). And a declined card: the message is in the
card field's alert region and the seats stay held.

Outbox delivery: ``outbox_enqueue`` queues ``core.tasks.outbox_deliver.delay(id)`` on commit;
here that call records the id (nothing consumes the in-memory broker in tests) and the test
delivers each recorded message with ``outbox_deliver_one`` — the worker's code — to aiosmtpd.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from icalendar import Calendar

from core import outbox
from core.models import OutboxMessage, SiteOptions
from enrollment.models import Order, ReferralSource, Registration
from enrollment.services import AttendeeInput, BuyerInput, order_place
from finance.models import Payment
from tests.factories import SemesterFactory, course_with_meetings, local_dt, today
from tests.localstripe_server import CARD_DECLINED, localstripe_server, stripe_settings  # noqa: F401 (fixtures)
from tests.servers import require_playwright
from tests.smtp_server import smtp  # noqa: F401 (the fixture)

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

from .pages import add_to_cart, attendee, card_field, type_card  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]

SCREENSHOTS = Path("/tmp")
S = Registration.Status
BUYER = {"first": "Jordan", "last": "Rivera", "email": "jordan.rivera@example.org", "phone": "785-555-0142"}


@pytest.fixture
def courses(transactional_db):
    """Two open adult classes with fees, registration open, first meetings weeks away.

    The live server's database is flushed between tests, which also empties the rows the data
    migration wrote: the "How did you hear about us?" answers are created here."""
    ReferralSource.objects.get_or_create(name="Library website", defaults={"position": 1})
    ReferralSource.objects.get_or_create(name="A friend", defaults={"position": 4})
    semester = SemesterFactory(name="Fall Checkout", slug="fall-checkout")
    first = local_dt(today() + dt.timedelta(days=28), 18, 30)
    bread = course_with_meetings(semester=semester, title="Bread Baking", slug="bread-baking",
                                 fee=Decimal("40.00"), capacity=10, first=first, weekly=3)
    knife = course_with_meetings(semester=semester, title="Knife Skills", slug="knife-skills",
                                 fee=Decimal("25.00"), capacity=10, first=first + dt.timedelta(days=2), weekly=2)
    return bread, knife


def test_checkout_two_attendees_two_classes_paid_by_card_and_emailed(
    page: Page, live_url: str, courses, stripe_settings, smtp, queued,  # noqa: F811
):
    bread, knife = courses
    handler = smtp.start()

    # --- the catalog → two classes in the cart ------------------------------------------------
    add_to_cart(page, live_url, bread.title)
    add_to_cart(page, live_url, knife.title)
    cart = page.get_by_role("table", name="Classes in your cart")
    expect(cart.get_by_role("row")).to_have_count(3)  # the header and two classes
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to checkout").click()

    # --- checkout: the buyer, "How did you hear", two attendees for Bread Baking ---------------
    expect(page.locator("h1")).to_have_text("Checkout")
    buyer = page.get_by_role("group", name="Your details")
    buyer.get_by_label("First name").fill(BUYER["first"])
    buyer.get_by_label("Last name").fill(BUYER["last"])
    buyer.get_by_label("E-mail").fill(BUYER["email"])
    buyer.get_by_label("Phone").fill(BUYER["phone"])
    page.get_by_label("How did you hear about us?").select_option(label="Library website")

    bread_block = page.get_by_role("group", name=bread.title, exact=True)
    # With scripts the count applies itself (issue 10 §6): no "Update" button, no reload.
    bread_block.get_by_label("Attendees for this class").select_option("2")
    expect(bread_block.get_by_role("button", name=f"Update the number of attendees for {bread.title}")).to_be_hidden()
    # Two attendee forms for Bread Baking, and what was typed kept.
    expect(attendee(page, bread.title, 2)).to_be_visible()
    expect(attendee(page, knife.title, 2)).to_have_count(0)
    expect(buyer.get_by_label("E-mail")).to_have_value(BUYER["email"])
    expect(page.get_by_label("How did you hear about us?")).to_have_value(
        str(ReferralSource.objects.get(name="Library website").pk))

    attendee(page, bread.title, 1).get_by_label("First name").fill("Jordan")
    attendee(page, bread.title, 1).get_by_label("Last name").fill("Rivera")
    attendee(page, bread.title, 2).get_by_label("First name").fill("Avery")
    attendee(page, bread.title, 2).get_by_label("Last name").fill("Rivera")
    attendee(page, knife.title, 1).get_by_label("First name").fill("Avery")
    attendee(page, knife.title, 1).get_by_label("Last name").fill("Rivera")
    # Every class's first attendee starts as "Myself"; Avery is the buyer's family in both classes.
    expect(attendee(page, bread.title, 2).get_by_label("This attendee is")).to_have_value("family")
    expect(attendee(page, knife.title, 1).get_by_label("This attendee is")).to_have_value("self")
    attendee(page, knife.title, 1).get_by_label("This attendee is").select_option(label="A family member")
    expect(page.get_by_text("Total: $105.00")).to_be_visible()  # 2 × $40 + $25
    page.screenshot(path=str(SCREENSHOTS / "browser-checkout-form.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()

    # --- the pay page: what is paid for, the total, the card field ------------------------------
    order = Order.objects.get(email=BUYER["email"])
    expect(page).to_have_url(f"{live_url}{reverse('finance:pay', args=[order.pk])}")
    expect(page.locator("h1")).to_have_text("Pay for your registration")
    summary = page.get_by_role("table", name="Attendees, classes and prices")
    expect(summary.get_by_role("row")).to_have_count(5)  # header, three seats, total
    expect(summary.get_by_role("row", name="Total due now")).to_contain_text("$105.00")
    pay = page.get_by_role("button", name="Pay $105.00")
    expect(pay).to_be_enabled()
    expect(card_field(page).get_by_placeholder("number", exact=True)).to_be_visible()  # Stripe.js mounted
    assert Registration.objects.filter(order=order, status=S.HELD).count() == 3
    type_card(page, "4242 4242 4242 4242")
    page.screenshot(path=str(SCREENSHOTS / "browser-checkout-pay.png"), full_page=True)
    pay.click()

    # --- the confirmation page ----------------------------------------------------------------
    confirmation_url = f"{live_url}{reverse('enrollment:order-confirmation', args=[order.pk])}"
    expect(page).to_have_url(confirmation_url, timeout=15_000)
    expect(page.locator("h1")).to_have_text("You’re registered")
    table = page.get_by_role("table", name=f"Attendees and classes of order {order.reference}")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expected_rows = {("Jordan Rivera", bread.title), ("Avery Rivera", bread.title), ("Avery Rivera", knife.title)}
    seen_rows = set()
    for i in range(3):
        cells = rows.nth(i).get_by_role("cell")
        expect(cells.nth(1)).to_have_text("Confirmed")
        seen_rows.add((rows.nth(i).get_by_role("rowheader").inner_text(), cells.nth(0).inner_text()))
    assert seen_rows == expected_rows
    expect(page.get_by_text("Total paid: $105.00")).to_be_visible()
    expect(page.get_by_role("heading", name=bread.title)).to_be_visible()
    expect(page.get_by_role("heading", name=knife.title)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "browser-checkout-confirmation.png"), full_page=True)

    # --- the database -------------------------------------------------------------------------
    registrations = list(Registration.objects.filter(order=order).order_by("pk"))
    R = Registration.Relationship
    assert [(r.attendee_name, r.course_id, r.relationship, r.status, r.price) for r in registrations] == [
        ("Jordan Rivera", bread.pk, R.SELF, S.CONFIRMED, Decimal("40.00")),
        ("Avery Rivera", bread.pk, R.FAMILY, S.CONFIRMED, Decimal("40.00")),
        ("Avery Rivera", knife.pk, R.FAMILY, S.CONFIRMED, Decimal("25.00")),
    ]
    assert len({r.attendee_key for r in registrations}) == 2  # two distinct people over two classes
    assert order.referral.name == "Library website" and order.phone == BUYER["phone"]
    payments = list(Payment.objects.filter(order=order))
    assert len(payments) == 1
    payment = payments[0]
    assert (payment.provider, payment.status, payment.amount) == (
        Payment.Provider.CARD, Payment.Status.SUCCEEDED, Decimal("105.00"))
    assert payment.succeeded_at is not None
    assert set(payment.registrations.values_list("pk", flat=True)) == {r.pk for r in registrations}
    intent = stripe_settings.intent(payment.reference)
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 10500, "usd")

    # --- the confirmation e-mail, delivered to the real SMTP server ---------------------------
    pending = OutboxMessage.objects.filter(to=BUYER["email"], status=OutboxMessage.Status.PENDING)
    assert sorted(queued) == sorted(pending.values_list("pk", flat=True)), "every queued message had its task"
    assert [outbox.outbox_deliver_one(message_id=message_id) for message_id in queued] == [outbox.SENT] * len(queued)
    assert len(handler.messages) == 1, [m["Subject"] for m in handler.messages]
    received = handler.messages[0]
    (SCREENSHOTS / "browser-checkout-email.eml").write_bytes(received.as_bytes())  # to read by eye
    assert received["To"] == BUYER["email"]
    program = SiteOptions.current().program_name
    # The "—" makes Django send the subject as one RFC 2047 encoded word folded onto the next line
    # ("Subject:\n =?utf-8?q?…?="); Python's parser keeps that fold's space (mail clients drop it).
    assert received["Subject"].lstrip() == f"You're registered: order {order.reference} — {program}"
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert "Jordan Rivera: $40.00" in text and "Avery Rivera: $25.00" in text and "Total paid: $105.00" in text

    attachments = list(received.iter_attachments())
    assert sorted(a.get_filename() for a in attachments) == sorted(f"{c.slug}.ics" for c in (bread, knife))
    for course in (bread, knife):
        part = next(a for a in attachments if a.get_filename() == f"{course.slug}.ics")
        assert part.get_content_type() == "text/calendar"
        events = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert [str(e["SUMMARY"]) for e in events] == [course.title] * course.meetings.count()
        assert sorted(e.decoded("DTSTART") for e in events) == [m.starts_at for m in course.ordered_meetings()]
        assert sorted(e.decoded("DTEND") for e in events) == [m.ends_at for m in course.ordered_meetings()]

    # Delivered once: nothing is left to send, and sending again does nothing.
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists()
    assert outbox.outbox_deliver_one(message_id=queued[0]) == outbox.SKIPPED
    assert len(handler.messages) == 1


def test_declined_card_shows_the_error_at_the_card_field_and_keeps_the_seats(
    page: Page, live_url: str, courses, stripe_settings, queued,  # noqa: F811
):
    bread, _ = courses
    order = order_place(
        buyer=BuyerInput(first_name="Casey", last_name="Nguyen", email="casey@example.org", phone="785-555-0177"),
        attendees=[AttendeeInput(course_id=bread.pk, first_name="Casey", last_name="Nguyen")],
    ).order
    page.goto(f"{live_url}{reverse('finance:pay-link', args=[order.token])}")  # the link, exchanged for the page
    type_card(page, CARD_DECLINED)
    with page.expect_navigation(url=re.compile(r"/pay/")):  # the return page sends the patron back here
        page.get_by_role("button", name="Pay $40.00").click()

    alert = page.get_by_role("alert").filter(has_text="Your card was declined — try another card.")
    expect(alert).to_be_visible()
    # It is the card field's own alert region: the field's description points at it.
    alert_id = alert.get_attribute("id")
    assert alert_id
    described_by = card_field(page).get_attribute("aria-describedby").split()
    assert alert_id in described_by
    # The patron can try another card right away.
    expect(card_field(page).get_by_placeholder("number", exact=True)).to_be_editable()
    expect(page.get_by_role("button", name="Pay $40.00")).to_be_enabled()
    page.screenshot(path=str(SCREENSHOTS / "browser-checkout-declined.png"), full_page=True)

    registration = Registration.objects.get(order=order)
    assert registration.status == S.HELD
    failed = Payment.objects.filter(order=order, status=Payment.Status.FAILED).get()
    assert "declined" in failed.failure_message
    assert not Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).exists()
    assert not OutboxMessage.objects.filter(to="casey@example.org").exists() and queued == []
