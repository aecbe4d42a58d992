"""A gift to Pass the Buck added at checkout, paid by card with the seats (through localstripe),
alone and together with a half-price scholarship: what is charged, what the fund books, what a
seat's refund may touch, and the receipt."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import OutboxMessage
from enrollment.models import Registration
from enrollment.services import AttendeeInput, BuyerInput, registration_cancel
from finance import selectors
from finance.balances import order_balance
from finance.models import Donation, FundEntry, Payment, Refund
from finance.services import refunds_settle
from finance.services.checkout import checkout_place
from finance.services.fund import fund_balance, fund_donation_record
from tests.localstripe_server import CARD_DECLINED, CARD_OK

from .stripe_helpers import confirm_with_card, open_pay_page

pytestmark = pytest.mark.stripe
S = Registration.Status
K = FundEntry.Kind


def _place(course, *, gift="0.00", scholarship=False, anonymous=False):
    return checkout_place(
        buyer=BuyerInput(first_name="Jordan", last_name="Giver", email="giver@example.org",
                         street_address="12 Elm St", city_state_zip="Salina, KS 67401",
                         gift_amount=Decimal(gift), gift_anonymous=anonymous),
        attendees=[AttendeeInput(course_id=course.pk, first_name="Alex", last_name="Giver", scholarship=scholarship)],
    )


def _pay(client, browser, order, card=CARD_OK):
    _, payment, _ = open_pay_page(client, order)
    answer = confirm_with_card(client, order, payment, browser.card(card))
    client.get(answer["return_url"])
    payment.refresh_from_db()
    return payment, answer


def test_the_gift_is_charged_with_the_seat_and_booked_once_as_a_card_donation(client, browser, course):
    placed = _place(course, gift="15.00", anonymous=True)
    response, payment, _ = open_pay_page(client, placed.order)
    assert payment.amount == course.fee + Decimal("15.00") and payment.gift_amount == Decimal("15.00")
    assert "Your gift to Pass the Buck" in response.content.decode()

    payment, answer = _pay(client, browser, placed.order)
    assert answer["status"] == "succeeded" and payment.status == Payment.Status.SUCCEEDED
    client.get(answer["return_url"])  # the browser comes back twice: booked once

    donation = Donation.objects.get(payment=payment)
    assert (donation.amount, donation.method, donation.status) == (Decimal("15.00"), "card", "succeeded")
    assert donation.anonymous and donation.reference == payment.reference
    assert donation.address == "12 Elm St\nSalina, KS 67401"
    assert FundEntry.objects.filter(kind=K.DONATION).count() == 1
    assert fund_balance() == Decimal("15.00")
    assert OutboxMessage.objects.filter(dedupe_key=f"donation-receipt:{donation.pk}").count() == 1
    # The seat's share is the fee alone; the order owes nothing and is not "overpaid" by the gift.
    registration = placed.registrations[0]
    assert selectors.payment_shares(payment) == {registration.pk: course.fee}
    assert order_balance(placed.order).due == 0 and order_balance(placed.order).paid == course.fee
    page = client.get(reverse("enrollment:order-confirmation", args=[placed.order.pk])).content.decode()
    assert "Thank you for your gift of <strong>$15.00</strong>" in page


def test_a_seat_refund_never_touches_the_gift(client, browser, course):
    placed = _place(course, gift="10.00")
    payment, _ = _pay(client, browser, placed.order)
    registration = placed.registrations[0]
    registration_cancel(registration_id=registration.pk)
    refunds = refunds_settle(registration_id=registration.pk)
    assert [r.amount for r in refunds] == [course.fee]
    assert fund_balance() == Decimal("10.00")  # the gift stays given


def test_gift_and_scholarship_together(client, browser, course):
    fund_donation_record(amount=Decimal("100.00"), dedupe_key="donation:seed")
    placed = _place(course, gift="5.00", scholarship=True)
    half = (course.fee / 2).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    _, payment, _ = open_pay_page(client, placed.order)
    assert payment.amount == course.fee - half + Decimal("5.00")

    payment, _ = _pay(client, browser, placed.order)
    registration = Registration.objects.get(pk=placed.registrations[0].pk)
    assert registration.status == S.CONFIRMED
    assert fund_balance() == Decimal("100.00") - half + Decimal("5.00")
    # Course income whole: card share + scholarship = the fee.
    assert selectors.registration_paid(registration) == course.fee
    page = client.get(reverse("enrollment:order-confirmation", args=[placed.order.pk])).content.decode()
    assert "half price with a Pass the Buck scholarship" in page

    # Cancelled before the cutoff: the patron gets their half back by card, the fund its half.
    registration_cancel(registration_id=registration.pk)
    refunds = refunds_settle(registration_id=registration.pk)
    assert [(r.payment.provider, r.amount) for r in refunds] == [("card", course.fee - half)]
    returned = Refund.objects.get(dedupe_key=f"award-return:{registration.pk}")
    assert returned.status == Refund.Status.DONE and returned.amount == half
    assert fund_balance() == Decimal("105.00")


def test_a_declined_card_books_no_gift(client, browser, course):
    placed = _place(course, gift="20.00")
    _, answer = _pay(client, browser, placed.order, card=CARD_DECLINED)
    assert answer["status"] == "requires_payment_method"
    assert not Donation.objects.exists() and fund_balance() == 0


@pytest.mark.parametrize("raw, message", [
    ("0", "A gift must be more than $0."),
    ("-5", "A gift must be more than $0."),
    ("abc", "Enter the gift in dollars"),
    ("1e3", "Enter the gift in dollars"),
    ("NaN", "Enter the gift in dollars"),
    ("10.001", "Use at most two decimals"),
    ("0.50", "The smallest gift by card is $1.00."),
    ("1000000", "please contact the library"),
])
def test_a_bad_gift_amount_is_refused_on_its_field_and_nothing_is_placed(client, course, raw, message):
    from enrollment.models import Order, ReferralSource

    client.post(reverse("enrollment:cart-add"), {"course": course.pk})
    page = client.get(reverse("enrollment:checkout"))
    assert page.status_code == 200
    data = {
        "nonce": page.context["nonce"], "action": "place",
        "buyer-first_name": "Jordan", "buyer-last_name": "Giver", "buyer-email": "giver@example.org",
        "buyer-phone": "785-555-0100", "buyer-referral": ReferralSource.objects.filter(active=True).first().pk,
        "class0-course": course.pk, "class0-fee": f"{course.fee}", "class0-shown": 1, "class0-attendees": 1,
        "class0-attendee0-first_name": "Alex", "class0-attendee0-last_name": "Giver",
        "class0-attendee0-relationship": "self", "gift-amount": raw,
    }
    response = client.post(reverse("enrollment:checkout"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'id="id_gift-amount"' in html and 'aria-invalid="true"' in html
    assert not Order.objects.exists()
