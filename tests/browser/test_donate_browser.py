"""A gift to Pass the Buck, end to end in a real browser: a donor follows "Give to Pass the Buck"
from the catalog, picks $25, fills in their name and e-mail, pays on localstripe through its fake
Stripe.js with the test card, and lands on the thank-you page. The thank-you e-mail is delivered
by the worker's code (``outbox_deliver_one``) to Django's locmem mailbox, and its receipt PDF is
read with pypdf. And the form with the keyboard only: a blank gift comes back with the error
summary focused-able, linked to the amount radios, which say they are invalid.
"""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from core import outbox
from core.models import OutboxMessage, SiteOptions
from finance.models import Donation, FundEntry
from tests.browser.test_catalog_browser import assert_accessible_basics, focused
from tests.localstripe_server import localstripe_server, stripe_settings  # noqa: F401 (fixtures)
from tests.servers import require_playwright

require_playwright()  # skips this module outside CI (fails in CI) when playwright is missing
from playwright.sync_api import Page, expect  # noqa: E402

from .pages import card_field, type_card  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.stripe]

SCREENSHOTS = Path("/tmp")
STATEMENT = "Riverside Library Foundation is a 501(c)(3) organization; no goods or services were provided."


@pytest.fixture
def site(transactional_db):
    options = SiteOptions.current()
    options.library_name = "Riverside Public Library"
    options.street_address = "100 Main Street"
    options.city_state_zip = "Riverside, KS 66000"
    options.nonprofit_statement = STATEMENT
    options.save()
    return options


def test_a_donor_gives_25_dollars_by_card_and_gets_the_receipt(
    page: Page, live_url: str, site, stripe_settings, queued, settings,  # noqa: F811
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page.goto(f"{live_url}/")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Give to Pass the Buck").click()
    expect(page).to_have_url(f"{live_url}{reverse('finance:donate')}")
    expect(page.locator("h1")).to_have_text("Give to Pass the Buck")
    expect(page.get_by_text("Anyone who asks can take a class at half price")).to_be_visible()
    assert_accessible_basics(page)

    amounts = page.get_by_role("group", name="Choose an amount")
    amounts.get_by_label("$25", exact=True).check()
    about = page.get_by_role("group", name="About you")
    about.get_by_label("First name").fill("Ada")
    about.get_by_label("Last name").fill("Lopez")
    about.get_by_label("E-mail").fill("ada.lopez@example.org")
    page.get_by_label("In honor or memory of (optional)").fill("In memory of Ruth Adams")
    page.screenshot(path=str(SCREENSHOTS / "browser-donate-form.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue to payment").click()

    donation = Donation.objects.get()
    expect(page).to_have_url(f"{live_url}{reverse('finance:donate-pay', args=[donation.pk])}")
    expect(page.locator("h1")).to_have_text("Pay for your gift")
    give = page.get_by_role("button", name="Give $25.00")
    expect(card_field(page).get_by_placeholder("number", exact=True)).to_be_visible()
    assert_accessible_basics(page)
    type_card(page, "4242 4242 4242 4242")
    give.click()

    expect(page).to_have_url(f"{live_url}{reverse('finance:donate-thanks', args=[donation.pk])}",
                             timeout=15_000)
    expect(page.locator("h1")).to_have_text("Thank you for your gift")
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    receipt = donation.receipt_number
    expect(page.get_by_text(receipt, exact=True)).to_be_visible()
    expect(page.get_by_text("Your gift of $25.00 to Pass the Buck", exact=False)).to_be_visible()
    expect(page.get_by_text("We have e-mailed your receipt (a PDF) to ada.lopez@example.org")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "browser-donate-thanks.png"), full_page=True)

    # --- the database and Stripe ---------------------------------------------------------------
    assert donation.amount == Decimal("25.00") and donation.method == Donation.Method.CARD
    intent = stripe_settings.intent(donation.reference)
    assert (intent["status"], intent["amount"], intent["metadata"]["kind"]) == ("succeeded", 2500, "donation")
    [entry] = FundEntry.objects.all()
    assert entry.amount == Decimal("25.00") and entry.dedupe_key == f"donation:{donation.pk}"

    # --- the thank-you e-mail, delivered, and its receipt PDF ----------------------------------
    message = OutboxMessage.objects.get(dedupe_key=f"donation-receipt:{donation.pk}")
    assert queued == [message.pk]
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.SENT
    [email] = mail.outbox
    assert email.to == ["ada.lopez@example.org"] and receipt in email.subject
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == (f"receipt-{receipt}.pdf", "application/pdf")
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    assert "Riverside Public Library" in text
    assert " ".join(STATEMENT.split()) in text
    assert "$25.00" in text and receipt in text
    assert timezone.localtime(donation.succeeded_at).date().strftime("%B %-d, %Y") in text
    assert "Ada Lopez" in text and "In memory of Ruth Adams" in text and "Card" in text
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.SKIPPED  # sent once
    assert len(mail.outbox) == 1


def test_a_blank_gift_comes_back_with_errors_a_keyboard_user_can_follow(
    page: Page, live_url: str, site, stripe_settings,  # noqa: F811
):
    page.goto(f"{live_url}{reverse('finance:donate')}")
    page.get_by_label("E-mail").fill("ada@example.org")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lopez")
    with page.expect_navigation():
        page.get_by_label("Last name").press("Enter")  # submit from the keyboard, no amount chosen

    summary = page.get_by_role("alert").filter(has_text="Please fix this problem")
    expect(summary).to_be_visible()
    expect(page).to_have_title("Error: Give to Pass the Buck · Riverside Public Library")
    link = summary.get_by_role("link", name="Choose an amount: Choose an amount, or enter another amount.")
    link.focus()
    page.keyboard.press("Enter")
    first = page.get_by_label("$10", exact=True)
    expect(first).to_have_attribute("aria-invalid", "true")
    expect(first).to_have_accessible_description("Choose an amount, or enter another amount.")
    first.focus()
    page.keyboard.press("ArrowRight")  # the arrow keys move through the radio group
    assert focused(page, page.get_by_label("$25", exact=True))
    expect(page.get_by_label("$25", exact=True)).to_be_checked()
    expect(page.get_by_label("E-mail")).to_have_value("ada@example.org")  # what was typed is kept
    page.screenshot(path=str(SCREENSHOTS / "browser-donate-errors.png"), full_page=True)
    assert not Donation.objects.exists()
