"""Gifts to Pass the Buck by card on the public page (``/give/``), against a real localstripe
server: the form, the card step, the browser's return and the webhook (in both orders, repeated),
a declined card, 3-D Secure, and bad input that creates nothing (no row, no PaymentIntent)."""

import io
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from core.models import OutboxMessage, SiteOptions
from core.outbox import outbox_attachment_bytes
from finance import gateway
from finance.errors import AmountMismatch, DonationNotFound
from finance.models import Donation, FundEntry, StripeEvent
from finance.services.donations import (
    DonationInvalid,
    donation_confirm,
    donation_start_card,
    donation_succeed,
)
from finance.services.fund import fund_balance
from tests.localstripe_server import CARD_3DS, CARD_DECLINED, CARD_OK

from .stripe_helpers import deliver_together, post_webhook, signed_event

pytestmark = [pytest.mark.stripe, pytest.mark.django_db]

STATEMENT = "The Library Foundation is a 501(c)(3) organization; no goods or services were provided for this gift."
FORM = {"choice": "25", "other_amount": "", "first_name": "Ada", "last_name": "Lopez", "email": "ada@example.org",
        "address": "", "dedication": "In memory of Ruth Adams", "anonymous": ""}


@pytest.fixture(autouse=True)
def site(db):
    options = SiteOptions.current()
    options.library_name = "Riverside Public Library"
    options.nonprofit_statement = STATEMENT
    options.save()
    return options


def pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def give(client, **changes):
    """POST the gift form; returns the response (a redirect to the card step when it is valid)."""
    return client.post(reverse("finance:donate"), {**FORM, **changes})


def start(client, **changes) -> Donation:
    response = give(client, **changes)
    assert response.status_code == 302, response.content.decode()[:2000]
    donation = Donation.objects.get()
    assert response["Location"] == reverse("finance:donate-pay", args=[donation.pk])
    return donation


def pay(client, browser, donation, card=CARD_OK) -> dict:
    """The card step as checkout.js takes it on localstripe: the page, the token, our confirm."""
    page = client.get(reverse("finance:donate-pay", args=[donation.pk]))
    assert page.status_code == 200, page.content.decode()[:2000]
    donation.refresh_from_db()  # a declined intent is replaced by the page
    assert page.context["client_secret"].startswith(donation.reference + "_secret_")
    response = client.post(reverse("finance:donate-local-confirm", args=[donation.pk]),
                           {"payment_intent": donation.reference, "payment_method": browser.card(card)})
    assert response.status_code == 200, response.content
    return response.json()


def return_url(donation) -> str:
    return reverse("finance:donate-return", args=[donation.pk]) + f"?payment_intent={donation.reference}"


def thanks_url(donation) -> str:
    return reverse("finance:donate-thanks", args=[donation.pk])


def webhook(browser, donation, *, type="payment_intent.succeeded"):
    intent = browser.server.intent(donation.reference)
    return signed_event(browser.server.webhook_secret, intent, type=type)


def assert_recorded_once(donation):
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED and donation.succeeded_at
    assert donation.failure_message == ""
    [entry] = FundEntry.objects.all()
    assert entry.kind == FundEntry.Kind.DONATION and entry.amount == donation.amount
    assert entry.dedupe_key == f"donation:{donation.pk}" and entry.created_by is None
    [message] = OutboxMessage.objects.all()
    assert message.to == donation.email and message.dedupe_key == f"donation-receipt:{donation.pk}"
    [attachment] = message.attachments
    assert attachment["filename"] == f"receipt-{donation.receipt_number}.pdf"
    return message


# --- the service ------------------------------------------------------------------------------------

def test_start_makes_a_pending_card_gift_and_its_payment_intent(stripe_settings):
    donation, client_secret = donation_start_card(
        first_name=" Ada ", last_name="Lopez", email="ada@example.org", amount=Decimal("25.00"),
    )
    assert donation.status == Donation.Status.PENDING and donation.method == Donation.Method.CARD
    assert donation.first_name == "Ada" and donation.taken_by is None
    assert donation.reference.startswith("pi_") and client_secret.startswith(donation.reference + "_secret_")
    intent = stripe_settings.intent(donation.reference)
    assert (intent["amount"], intent["currency"], intent["status"]) == (2500, "usd", "requires_payment_method")
    assert intent["metadata"] == {"kind": "donation", "donation": str(donation.pk)}
    assert not FundEntry.objects.exists() and not OutboxMessage.objects.exists()


def test_two_card_gifts_never_share_a_payment_intent(stripe_settings):
    first, _ = donation_start_card(first_name="Ada", last_name="Lopez", email="ada@example.org", amount="10")
    with pytest.raises(IntegrityError), transaction.atomic():
        Donation.objects.create(first_name="B", last_name="C", email="b@example.org", amount=Decimal("10.00"),
                                method=Donation.Method.CARD, reference=first.reference)
    # Pending card gifts without an intent yet, and checks, are not affected by the constraint.
    for _ in range(2):
        Donation.objects.create(first_name="B", last_name="C", amount=Decimal("5.00"), method=Donation.Method.CARD)


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": ""}, "email"),
    ({"email": "not-an-address"}, "email"),
    ({"amount": Decimal("0.99")}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": 25.0}, "amount"),
    ({"amount": "100000"}, "amount"),
    ({"first_name": "  "}, "first_name"),
    ({"dedication": "x" * 201}, "dedication"),
])
def test_the_service_refuses_bad_input_before_calling_stripe(monkeypatch, changes, field):
    monkeypatch.setattr(gateway, "intent_create", lambda **kw: pytest.fail("no PaymentIntent for bad input"))
    fields = {"first_name": "Ada", "last_name": "Lopez", "email": "ada@example.org", "amount": Decimal("25")}
    with pytest.raises(DonationInvalid) as caught:
        donation_start_card(**{**fields, **changes})
    assert caught.value.field == field
    assert not Donation.objects.exists()


def test_donation_succeed_is_idempotent(stripe_settings):
    donation, _ = donation_start_card(first_name="Ada", last_name="Lopez", email="ada@example.org", amount="30")
    before = fund_balance()
    with transaction.atomic():
        donation_succeed(donation=donation)
    when = donation.succeeded_at
    stale = Donation.objects.get(pk=donation.pk)
    stale.status = Donation.Status.PENDING  # a caller holding an old copy
    with transaction.atomic():
        again = donation_succeed(donation=stale)
    assert again.status == Donation.Status.SUCCEEDED and again.succeeded_at == when
    assert fund_balance() == before + Decimal("30.00")
    assert FundEntry.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_confirm_refuses_an_intent_that_is_no_gift(stripe_settings):
    status, intent = stripe_settings.api("POST", "/v1/payment_intents", {"amount": 500, "currency": "usd"})
    assert status == 200
    with pytest.raises(DonationNotFound):
        donation_confirm(payment_intent_id=intent["id"])


# --- the pages: the browser's return and the webhook --------------------------------------------------

def test_give_pay_return_then_webhook_records_the_gift_once(client, browser):
    page = client.get(reverse("finance:donate"))
    assert page.status_code == 200
    donation = start(client)
    assert donation.amount == Decimal("25.00") and donation.dedication == "In memory of Ruth Adams"
    card_page = client.get(reverse("finance:donate-pay", args=[donation.pk])).content.decode()
    assert f'src="{browser.server.base_url}/js.stripe.com/v3/"' in card_page
    assert 'id="card-element"' in card_page and "Give $25.00" in card_page
    assert "data-seconds-left" not in card_page  # no hold to count down

    answer = pay(client, browser, donation)
    assert answer["status"] == "succeeded" and answer["return_url"] == return_url(donation)
    response = client.get(answer["return_url"])
    assert response.status_code == 302 and response["Location"] == thanks_url(donation)
    message = assert_recorded_once(donation)
    text = pdf_text(outbox_attachment_bytes(message.attachments[0]))
    assert "Riverside Public Library" in text and "$25.00" in text and donation.receipt_number in text
    assert "Card" in text and "In memory of Ruth Adams" in text

    thanks = client.get(thanks_url(donation)).content.decode()
    assert "Thank you for your gift" in thanks and "$25.00" in thanks and donation.receipt_number in thanks
    assert "We have e-mailed your receipt" in thanks and "ada@example.org" in thanks

    payload, header = webhook(browser, donation)
    for _ in range(2):  # Stripe's delivery, then its repeat
        assert post_webhook(client, payload, header).status_code == 200
    payload, header = webhook(browser, donation)  # another event about the same intent
    assert post_webhook(client, payload, header).status_code == 200
    assert StripeEvent.objects.count() == 2
    client.get(answer["return_url"])  # and the browser comes back once more
    assert_recorded_once(donation)


def test_webhook_first_then_the_return_records_the_gift_once(client, browser):
    donation = start(client, choice="other", other_amount="$1,250.50")
    assert donation.amount == Decimal("1250.50")
    answer = pay(client, browser, donation)
    payload, header = webhook(browser, donation)
    assert post_webhook(client, payload, header).status_code == 200
    assert_recorded_once(donation)
    response = client.get(answer["return_url"])
    assert response.status_code == 302 and response["Location"] == thanks_url(donation)
    # The card step of a paid gift goes to the thank-you page, too.
    assert client.get(reverse("finance:donate-pay", args=[donation.pk]))["Location"] == thanks_url(donation)
    assert_recorded_once(donation)


def test_a_gift_paid_while_the_page_was_away_is_recorded_by_the_card_step(client, browser):
    donation = start(client)
    pay(client, browser, donation)  # paid on Stripe; neither the return nor the webhook came yet
    response = client.get(reverse("finance:donate-pay", args=[donation.pk]))
    assert response.status_code == 302 and response["Location"] == thanks_url(donation)
    assert_recorded_once(donation)


def test_a_declined_card_leaves_the_gift_pending_then_another_card_pays(client, browser):
    donation = start(client)
    answer = pay(client, browser, donation, card=CARD_DECLINED)
    assert answer["status"] == "requires_payment_method"
    response = client.get(return_url(donation), follow=True)
    assert "Your card was declined — try another card." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("finance:donate-pay", args=[donation.pk])
    declined = donation.reference
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING and "declined" in donation.failure_message
    assert not FundEntry.objects.exists() and not OutboxMessage.objects.exists()
    # The card step gave the gift a fresh PaymentIntent for another card; the declined one is canceled.
    assert donation.reference != declined and browser.server.intent(declined)["status"] == "canceled"
    assert browser.server.intent(donation.reference)["amount"] == 2500
    # The old intent's events change nothing; the thank-you page is not shown for an unpaid gift.
    for type in ("payment_intent.payment_failed", "payment_intent.canceled"):
        payload, header = signed_event(browser.server.webhook_secret, browser.server.intent(declined), type=type)
        assert post_webhook(client, payload, header).status_code == 200
    assert client.get(thanks_url(donation))["Location"] == reverse("finance:donate-pay", args=[donation.pk])
    assert not FundEntry.objects.exists()
    # "Back" to the declined card's return page: the card step, nothing recorded.
    old_return = reverse("finance:donate-return", args=[donation.pk]) + f"?payment_intent={declined}"
    assert client.get(old_return)["Location"] == reverse("finance:donate-pay", args=[donation.pk])
    # Another card.
    answer = pay(client, browser, donation)
    assert answer["status"] == "succeeded"
    assert client.get(answer["return_url"])["Location"] == thanks_url(donation)
    assert_recorded_once(donation)


def test_3d_secure_then_paid(client, browser):
    donation = start(client)
    pay(client, browser, donation, card=CARD_3DS)
    response = client.get(return_url(donation), follow=True)
    html = response.content.decode()
    assert "Your bank needs you to confirm this payment" in html and "Confirm with my bank" in html
    assert 'data-requires-action="1"' in html
    assert Donation.objects.get(pk=donation.pk).status == Donation.Status.PENDING
    status, body = browser.authenticate(response.context["client_secret"], success=True)
    assert status == 200 and body["status"] == "succeeded"
    assert client.get(return_url(donation))["Location"] == thanks_url(donation)
    assert_recorded_once(donation)


def test_an_amount_stripe_reports_differently_is_never_recorded(client, browser):
    donation = start(client)
    pay(client, browser, donation)
    Donation.objects.filter(pk=donation.pk).update(amount=Decimal("2.50"))  # ours no longer matches Stripe's
    with pytest.raises(AmountMismatch):
        donation_confirm(payment_intent_id=donation.reference)
    payload, header = webhook(browser, donation)
    assert post_webhook(client, payload, header).status_code == 200  # logged for staff; no retry storm
    assert Donation.objects.get(pk=donation.pk).status == Donation.Status.PENDING
    assert not FundEntry.objects.exists() and not OutboxMessage.objects.exists()


def test_a_webhook_for_an_intent_of_nobody_is_ignored(client, browser):
    status, intent = browser.server.api("POST", "/v1/payment_intents", {"amount": 700, "currency": "usd"})
    assert status == 200
    payload, header = signed_event(browser.server.webhook_secret, intent)
    assert post_webhook(client, payload, header).status_code == 200
    assert not Donation.objects.exists() and not FundEntry.objects.exists()


def test_a_canceled_intent_asks_for_a_new_gift(client, browser):
    donation = start(client)
    gateway.intent_cancel(donation.reference)
    response = client.get(reverse("finance:donate-pay", args=[donation.pk]))
    assert response.status_code == 410
    assert "can no longer be paid" in response.content.decode() and reverse("finance:donate") in response.content.decode()
    client.get(return_url(donation))
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING and donation.failure_message == "The payment was canceled."


def test_stripe_down_when_starting_leaves_nothing(client, stripe_settings, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = give(client)
    assert response.status_code == 503
    assert "could not reach the payment service" in response.content.decode()
    assert not Donation.objects.exists()


def test_a_gifts_pages_need_its_grant_and_its_own_intent(client, browser):
    """A gift's pages open in the browser that started it (a grant in its session), at URLs that
    carry no secret; the gift's token (older return addresses) is exchanged for the grant."""
    mine = start(client)
    other = Client().post(reverse("finance:donate"), {**FORM, "email": "other@example.org"})
    theirs = Donation.objects.exclude(pk=mine.pk).get()
    assert other["Location"] == reverse("finance:donate-pay", args=[theirs.pk])
    assert str(theirs.token) not in other["Location"]
    for name in ("finance:donate-pay-link", "finance:donate-return-link", "finance:donate-thanks-link"):
        assert client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    for name in ("finance:donate-pay", "finance:donate-return", "finance:donate-thanks"):
        closed = client.get(reverse(name, args=[theirs.pk]))
        assert closed.status_code == 403 and theirs.first_name not in closed.content.decode()
    exchanged = Client().get(reverse("finance:donate-return-link", args=[mine.token]) + "?payment_intent=pi_1")
    assert exchanged["Location"] == reverse("finance:donate-return", args=[mine.pk]) + "?payment_intent=pi_1"
    wrong = reverse("finance:donate-return", args=[mine.pk]) + f"?payment_intent={theirs.reference}"
    assert client.get(wrong)["Location"] == reverse("finance:donate-pay", args=[mine.pk])
    response = client.post(reverse("finance:donate-local-confirm", args=[mine.pk]),
                           {"payment_intent": theirs.reference, "payment_method": browser.card()})
    assert response.status_code == 404
    assert browser.server.intent(theirs.reference)["status"] == "requires_payment_method"
    assert client.post(reverse("finance:donate-local-confirm", args=[theirs.pk]),
                       {"payment_intent": theirs.reference, "payment_method": browser.card()}).status_code == 403
    assert browser.server.intent(theirs.reference)["status"] == "requires_payment_method"


# --- the form: bad input creates nothing -----------------------------------------------------------

@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"choice": "other", "other_amount": "0"}, "other_amount", "greater than zero"),
    ({"choice": "other", "other_amount": "0.00"}, "other_amount", "greater than zero"),
    ({"choice": "other", "other_amount": "-5"}, "other_amount", "dollars and cents"),
    ({"choice": "other", "other_amount": "abc"}, "other_amount", "dollars and cents"),
    ({"choice": "other", "other_amount": "1e5"}, "other_amount", "dollars and cents"),
    ({"choice": "other", "other_amount": "NaN"}, "other_amount", "dollars and cents"),
    ({"choice": "other", "other_amount": "Infinity"}, "other_amount", "dollars and cents"),
    ({"choice": "other", "other_amount": "10.001"}, "other_amount", "at most 2 decimals"),
    ({"choice": "other", "other_amount": "1000000"}, "other_amount", "too large"),
    ({"choice": "other", "other_amount": "99999999999999999999"}, "other_amount", "too large"),
    ({"choice": "other", "other_amount": "0.50"}, "other_amount", "smallest gift by card is $1.00"),
    ({"choice": "other", "other_amount": ""}, "other_amount", "Enter the amount of your gift"),
    ({"choice": "", "other_amount": ""}, "choice", "Choose an amount"),
    ({"choice": "", "other_amount": "-1"}, "other_amount", "dollars and cents"),
    ({"choice": "25", "other_amount": "40"}, "other_amount", "choose “Another amount”"),
    ({"choice": "7"}, "choice", "Choose one of the amounts"),
    ({"email": ""}, "email", "your receipt goes there"),
    ({"email": "ada@"}, "email", "e-mail address like"),
    ({"first_name": ""}, "first_name", "Enter the first name"),
    ({"last_name": "<script>"}, "last_name", "markup"),
    ({"dedication": "x" * 201}, "dedication", "at most 200 characters"),
    ({"address": "12 Elm <b>"}, "address", "Remove the"),
])
def test_bad_input_shows_the_form_again_with_the_error_on_its_field(client, monkeypatch, changes, field, message):
    monkeypatch.setattr(gateway, "intent_create", lambda **kw: pytest.fail("no PaymentIntent for bad input"))
    response = give(client, **changes)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors and message in " ".join(form.errors[field]), form.errors
    html = response.content.decode()
    assert 'id="error-summary"' in html
    target = "id_choice_0" if field == "choice" else f"id_{field}"
    assert f'href="#{target}"' in html
    assert f'id="id_{field}_error"' in html
    assert f'aria-describedby="id_{field}_error' in html or f'aria-describedby="id_{field}_helptext id_{field}_error"' in html
    assert 'aria-invalid="true"' in html
    assert not Donation.objects.exists() and not FundEntry.objects.exists()


def test_what_was_typed_is_kept_when_the_form_comes_back(client):
    response = give(client, choice="other", other_amount="12.345", anonymous="on")
    html = response.content.decode()
    assert 'value="12.345"' in html and 'value="Ada"' in html
    assert 'id="id_choice_4" value="other" checked' in html.replace('name="choice" ', "")


# --- the page -------------------------------------------------------------------------------------

def test_the_give_page_is_open_to_everyone_and_linked_from_every_public_page(client, django_user_model):
    staff = django_user_model.objects.create_user("desk", "desk@library.example", "pw-123456789", is_staff=True)
    for who in (None, staff):
        visitor = Client()
        if who:
            visitor.force_login(who)
        assert visitor.get(reverse("finance:donate")).status_code == 200
    html = client.get(reverse("finance:donate")).content.decode()
    assert "Anyone who asks can take a class at half price, and the fund pays the other half" in html
    assert "<legend" in html and "Choose an amount</legend>" in html
    for amount in ("$10", "$25", "$50", "$100", "Another amount"):
        assert f">{amount}</label>" in html
    for label in ("First name", "Last name", "E-mail", "Postal address (optional)",
                  "In honor or memory of (optional)", "Keep my gift anonymous"):
        assert label in html
    assert 'aria-current="page">Give to Pass the Buck</a>' in html
    home = client.get(reverse("classes:home")).content.decode()
    assert f'href="{reverse("finance:donate")}"' in home


# --- at once ----------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_return_and_many_webhooks_at_once_record_the_gift_once(browser, settings):
    """The donor's return and ten deliveries of the webhook (five distinct events, each twice)
    arrive together, each on its own connection: one succeeded gift, one fund entry, one receipt."""
    from .conftest import require_postgres

    require_postgres("concurrent gift confirmations")
    settings.DB_LOCK_TIMEOUT_MS = 20_000
    SiteOptions.current()
    donor = Client()
    donation = start(donor)
    answer = pay(donor, browser, donation)
    assert answer["status"] == "succeeded"
    events = [webhook(browser, donation) for _ in range(5)]
    codes = deliver_together(events + events, return_url(donation), payer=donor)
    assert set(codes) <= {200, 302}, codes
    assert StripeEvent.objects.count() == 5
    assert_recorded_once(donation)
    assert fund_balance() == Decimal("25.00")
