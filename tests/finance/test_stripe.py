"""Card payments against a real localstripe server: the page, the browser's confirmation, the
return, the webhook (repeated, concurrent, early and late), a seat lost to a late payment, and
refunds made once."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from enrollment.models import Registration
from enrollment.services import registration_cancel
from finance import services
from finance.models import Payment, Refund, StripeEvent
from tests.factories import RegistrationFactory, open_order
from tests.localstripe_server import CARD_3DS, CARD_DECLINED, CARD_OK

from .conftest import place, require_postgres
from .stripe_helpers import (
    assert_goes_to_confirmation,
    confirm_with_card,
    deliver_together,
    open_pay_page,
    post_webhook,
    return_url,
    signed_event,
)

pytestmark = pytest.mark.stripe
S = Registration.Status


def confirmations(order) -> int:
    return OutboxMessage.objects.filter(template="registration_confirmed", dedupe_key__contains=f":{order.pk}:").count()


def pay_on_stripe(client, browser, order, card=CARD_OK):
    """Open the page and pay with ``card`` in the browser, without coming back to our return page."""
    _, payment, client_secret = open_pay_page(client, order)
    answer = confirm_with_card(client, order, payment, browser.card(card))
    return payment, client_secret, answer


# --- the page -------------------------------------------------------------------------------------

def test_pay_page_shows_the_order_the_hold_and_the_card_field(client, browser, held):
    response, payment, client_secret = open_pay_page(client, held.order)
    html = response.content.decode()
    assert f'src="{browser.server.base_url}/js.stripe.com/v3/"' in html
    assert 'id="card-element"' in html and 'aria-describedby="card-help card-errors"' in html
    assert 'id="card-errors" role="alert"' in html
    assert "Alex Reader" in html and held.held[0].course.title in html
    assert "We are holding your seat" in html and "Pay $25.00" in html
    assert client_secret.startswith(payment.reference + "_secret_")
    intent = browser.server.intent(payment.reference)
    assert intent["amount"] == 2500 and intent["currency"] == "usd"
    assert intent["metadata"]["registrations"] == str(held.held[0].pk)
    assert intent["metadata"]["order"] == str(held.order.pk)


def test_reloading_the_page_reuses_the_payment_intent(client, browser, held):
    _, first, secret = open_pay_page(client, held.order)
    _, again, secret_again = open_pay_page(client, held.order)
    assert again.pk == first.pk and secret_again == secret
    assert Payment.objects.filter(order=held.order).count() == 1


def test_a_changed_hold_replaces_the_payment_intent(client, browser, course):
    result = place(course, attendees=("Alex", "Sam"))
    _, first, _ = open_pay_page(client, result.order)
    registration_cancel(registration_id=result.held[1].pk, reason="changed mind")
    _, second, _ = open_pay_page(client, result.order)
    assert second.pk != first.pk and second.amount == Decimal("25.00")
    first.refresh_from_db()
    assert first.status == Payment.Status.FAILED
    assert browser.server.intent(first.reference)["status"] == "canceled"


def test_a_payment_intent_unknown_to_stripe_is_replaced(client, browser, held):
    _, first, _ = open_pay_page(client, held.order)
    Payment.objects.filter(pk=first.pk).update(reference="pi_vanished0000")  # e.g. the demo's server lost it
    _, second, _ = open_pay_page(client, held.order)
    assert second.pk != first.pk
    assert Payment.objects.get(pk=first.pk).status == Payment.Status.FAILED


# --- the browser's return ---------------------------------------------------------------------

def test_card_payment_confirms_the_registration_and_queues_one_confirmation(client, browser, held):
    payment, _, answer = pay_on_stripe(client, browser, held.order)
    assert answer["status"] == "succeeded"
    response = client.get(answer["return_url"])
    assert_goes_to_confirmation(response, held.order)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.succeeded_at
    assert Registration.objects.get(pk=held.held[0].pk).status == S.CONFIRMED
    assert confirmations(held.order) == 1
    client.get(answer["return_url"])  # the browser comes back twice: nothing more
    assert confirmations(held.order) == 1


def test_declined_card_keeps_the_hold_and_says_try_another_card(client, browser, held):
    payment, _, answer = pay_on_stripe(client, browser, held.order, card=CARD_DECLINED)
    assert answer["status"] == "requires_payment_method"
    response = client.get(return_url(held.order, payment), follow=True)
    assert "Your card was declined — try another card." in response.content.decode()
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and "declined" in payment.failure_message
    # Another card works: a fresh PaymentIntent, then paid.
    retry, _, answer = pay_on_stripe(client, browser, held.order)
    assert retry.pk != payment.pk and answer["status"] == "succeeded"
    assert_goes_to_confirmation(client.get(answer["return_url"]), held.order)
    assert Registration.objects.get(pk=held.held[0].pk).status == S.CONFIRMED


def test_3d_secure_tells_the_patron_then_confirms_after_authentication(client, browser, held):
    payment, client_secret, answer = pay_on_stripe(client, browser, held.order, card=CARD_3DS)
    assert answer["status"] == "requires_action"
    response = client.get(return_url(held.order, payment), follow=True)
    html = response.content.decode()
    assert "Your bank needs you to confirm this payment" in html
    assert "Confirm with my bank" in html and 'data-requires-action="1"' in html
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    status, body = browser.authenticate(client_secret, success=True)
    assert status == 200 and body["status"] == "succeeded"
    assert_goes_to_confirmation(client.get(return_url(held.order, payment)), held.order)
    assert Registration.objects.get(pk=held.held[0].pk).status == S.CONFIRMED
    assert confirmations(held.order) == 1


def test_failed_3d_secure_keeps_the_hold(client, browser, held):
    payment, client_secret, _ = pay_on_stripe(client, browser, held.order, card=CARD_3DS)
    browser.authenticate(client_secret, success=False)
    response = client.get(return_url(held.order, payment), follow=True)
    assert "Your bank could not confirm this payment" in response.content.decode()
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.FAILED


# --- the webhook --------------------------------------------------------------------------------

def test_the_same_event_ten_times_confirms_once(client, browser, held):
    payment, _, _ = pay_on_stripe(client, browser, held.order)
    payload, header = signed_event(browser.server.webhook_secret, browser.server.intent(payment.reference))
    codes = [post_webhook(client, payload, header).status_code for _ in range(10)]
    assert codes == [200] * 10
    assert StripeEvent.objects.count() == 1
    assert Registration.objects.get(pk=held.held[0].pk).status == S.CONFIRMED
    assert confirmations(held.order) == 1


def test_webhook_first_then_the_browser_return_changes_nothing(client, browser, held):
    payment, _, answer = pay_on_stripe(client, browser, held.order)
    payload, header = signed_event(browser.server.webhook_secret, browser.server.intent(payment.reference))
    assert post_webhook(client, payload, header).status_code == 200
    assert Registration.objects.get(pk=held.held[0].pk).status == S.CONFIRMED
    events_before = held.held[0].events.count()
    assert_goes_to_confirmation(client.get(answer["return_url"]), held.order)
    assert confirmations(held.order) == 1
    assert held.held[0].events.count() == events_before


def test_browser_return_first_then_the_webhook_changes_nothing(client, browser, held):
    payment, _, answer = pay_on_stripe(client, browser, held.order)
    assert_goes_to_confirmation(client.get(answer["return_url"]), held.order)
    succeeded_at = Payment.objects.get(pk=payment.pk).succeeded_at
    payload, header = signed_event(browser.server.webhook_secret, browser.server.intent(payment.reference))
    assert post_webhook(client, payload, header).status_code == 200
    assert Payment.objects.get(pk=payment.pk).succeeded_at == succeeded_at
    assert confirmations(held.order) == 1


def test_payment_failed_event_keeps_the_hold(client, browser, held):
    payment, _, _ = pay_on_stripe(client, browser, held.order, card=CARD_DECLINED)
    intent = browser.server.intent(payment.reference)
    payload, header = signed_event(browser.server.webhook_secret, intent, type="payment_intent.payment_failed")
    assert post_webhook(client, payload, header).status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.FAILED
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD


def test_a_forged_webhook_does_not_confirm_a_paid_intent(client, browser, held):
    payment, _, _ = pay_on_stripe(client, browser, held.order)
    payload, header = signed_event("whsec_someone_else", browser.server.intent(payment.reference))
    assert post_webhook(client, payload, header).status_code == 400
    assert StripeEvent.objects.count() == 0
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_concurrently_confirms_once(browser, course, settings):
    require_postgres("concurrent webhook deliveries")
    settings.DB_LOCK_TIMEOUT_MS = 20_000
    held = place(course)
    client = Client()
    payment, _, answer = pay_on_stripe(client, browser, held.order)
    intent = browser.server.intent(payment.reference)
    same = signed_event(browser.server.webhook_secret, intent)
    others = [signed_event(browser.server.webhook_secret, intent) for _ in range(4)]  # Stripe's own repeats
    deliveries = [same] * 10 + others
    codes = deliver_together(deliveries, answer["return_url"], payer=client)
    assert set(codes) <= {200, 302}, codes
    assert StripeEvent.objects.count() == 5
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert Registration.objects.get(pk=held.held[0].pk).status == S.CONFIRMED
    assert confirmations(held.order) == 1
    assert held.held[0].events.filter(to_status=S.CONFIRMED).count() == 1


# --- a payment that arrives for a seat that is gone -------------------------------------------------

def test_paid_after_the_hold_ran_out_and_the_class_filled_is_refunded(
    db, client, browser, django_capture_on_commit_callbacks
):
    from tests.factories import course_with_meetings

    course = course_with_meetings(capacity=1, minimum=1)
    held = place(course)
    registration = held.held[0]
    payment, _, answer = pay_on_stripe(client, browser, held.order)
    assert answer["status"] == "succeeded"
    later = registration.expires_at + dt.timedelta(minutes=5)
    RegistrationFactory(course=course, status=S.CONFIRMED)  # someone else took the released seat
    with django_capture_on_commit_callbacks(execute=True):
        result = services.payment_confirm(payment_intent_id=payment.reference, now=later)
    assert result.outcome == services.Outcome.SUCCEEDED and [r.pk for r in result.lost] == [registration.pk]
    registration.refresh_from_db()
    assert registration.status == S.EXPIRED
    refund = Refund.objects.get(dedupe_key__endswith=f":{registration.pk}", dedupe_key__startswith="lost:")
    assert refund.status == Refund.Status.DONE and refund.amount == Decimal("25.00")
    stripe_refunds = browser.server.refunds(payment.reference)
    assert [(r["id"], r["amount"]) for r in stripe_refunds] == [(refund.reference, 2500)]
    lost_mail = OutboxMessage.objects.get(template="seat_lost_refunded")
    assert lost_mail.to == "patron@example.org" and "$25.00" in lost_mail.body_text
    from finance.refund_words import TIMING  # how it comes back, with the one timing sentence

    assert f"We have refunded $25.00 to the card you paid with. {TIMING['card']}" in lost_mail.body_text
    assert confirmations(held.order) == 0
    assert not OutboxMessage.objects.filter(template="refund_issued").exists()  # one e-mail says it all
    # Told again (the webhook, the return): nothing more is refunded or sent.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.payment_confirm(payment_intent_id=payment.reference, now=later)
    assert again.outcome == services.Outcome.ALREADY
    assert len(browser.server.refunds(payment.reference)) == 1
    assert OutboxMessage.objects.filter(template="seat_lost_refunded").count() == 1


def test_paid_after_the_hold_ran_out_with_a_seat_still_free_is_confirmed(client, browser, held):
    payment, _, _ = pay_on_stripe(client, browser, held.order)
    later = held.held[0].expires_at + dt.timedelta(minutes=5)
    result = services.payment_confirm(payment_intent_id=payment.reference, now=later)
    assert [r.pk for r in result.confirmed] == [held.held[0].pk] and not result.lost
    assert not Refund.objects.exists()


# --- refunds ------------------------------------------------------------------------------------

def _paid(client, browser, order):
    payment, _, answer = pay_on_stripe(client, browser, order)
    client.get(answer["return_url"])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def test_refunds_settle_twice_refunds_once(client, browser, held, django_capture_on_commit_callbacks):
    payment = _paid(client, browser, held.order)
    registration = held.held[0]
    registration_cancel(registration_id=registration.pk)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.refunds_settle(registration_id=registration.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.refunds_settle(registration_id=registration.pk)
    assert len(first) == 1 and second == []
    refund = first[0]
    refund.refresh_from_db()  # made on Stripe after commit
    assert refund.dedupe_key == f"cancel:{registration.pk}" and refund.status == Refund.Status.DONE
    assert refund.amount == Decimal("25.00") and refund.reference.startswith("re_")
    assert [r["id"] for r in browser.server.refunds(payment.reference)] == [refund.reference]
    mail = OutboxMessage.objects.get(template="refund_issued")
    assert "$25.00" in mail.body_text and mail.dedupe_key == f"refund-issued:{refund.pk}"


def test_a_two_seat_payment_refunds_only_the_cancelled_seat(client, browser, course, django_capture_on_commit_callbacks):
    result = place(course, attendees=("Alex", "Sam"))
    payment = _paid(client, browser, result.order)
    assert payment.amount == Decimal("50.00")
    registration_cancel(registration_id=result.held[1].pk)
    with django_capture_on_commit_callbacks(execute=True):
        [refund] = services.refunds_settle(registration_id=result.held[1].pk)
    assert refund.amount == Decimal("25.00")
    assert [r["amount"] for r in browser.server.refunds(payment.reference)] == [2500]


def test_a_refund_whose_stripe_call_failed_is_retried_by_the_sweep(
    client, browser, held, settings, django_capture_on_commit_callbacks
):
    payment = _paid(client, browser, held.order)
    registration_cancel(registration_id=held.held[0].pk)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable for a while
    with django_capture_on_commit_callbacks(execute=True):
        [refund] = services.refunds_settle(registration_id=held.held[0].pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING and refund.attempts == 1 and refund.last_error
    assert browser.server.refunds(payment.reference) == []
    settings.STRIPE_API_BASE = browser.server.base_url
    assert services.refunds_sweep(now=timezone.now() + dt.timedelta(minutes=3))["retried"] == 0  # backing off
    counts = services.refunds_sweep(now=timezone.now() + dt.timedelta(minutes=10))
    assert counts["issued"] == 1
    refund.refresh_from_db()
    assert refund.status == Refund.Status.DONE and refund.attempts == 2 and refund.last_error == ""
    assert len(browser.server.refunds(payment.reference)) == 1
    assert services.refunds_sweep(now=timezone.now() + dt.timedelta(minutes=20))["issued"] == 0
    assert len(browser.server.refunds(payment.reference)) == 1


def test_a_refund_made_on_stripe_but_lost_by_us_is_adopted_not_repeated(client, browser, held):
    payment = _paid(client, browser, held.order)
    registration_cancel(registration_id=held.held[0].pk)
    [refund] = services.refunds_settle(registration_id=held.held[0].pk)  # callbacks not run: still pending
    status, made = browser.server.api("POST", "/v1/refunds", {
        "payment_intent": payment.reference, "amount": 2500, "metadata[dedupe_key]": refund.dedupe_key,
    })
    assert status == 200
    services.refund_issue(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.DONE and refund.reference == made["id"]
    assert len(browser.server.refunds(payment.reference)) == 1


def test_the_sweep_settles_a_cancellation_nobody_settled(client, browser, held, django_capture_on_commit_callbacks):
    payment = _paid(client, browser, held.order)
    registration_cancel(registration_id=held.held[0].pk)  # the entry point crashed before settling
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.refunds_sweep()
    assert counts["settled"] == 1
    assert Refund.objects.get(dedupe_key=f"cancel:{held.held[0].pk}").status == Refund.Status.DONE
    assert len(browser.server.refunds(payment.reference)) == 1
    assert services.refunds_sweep()["settled"] == 0


def test_local_confirm_refuses_an_intent_of_another_order(client, browser, course):
    mine, theirs = place(course), place(course, email="other@example.org")
    _, their_payment, _ = open_pay_page(client, theirs.order)
    open_order(client, mine.order)  # this browser may open both orders: the intent still must be the order's
    response = client.post(reverse("finance:pay-local-confirm", args=[mine.order.pk]),
                           {"payment_intent": their_payment.reference, "payment_method": browser.card()})
    assert response.status_code == 404
    assert browser.server.intent(their_payment.reference)["status"] == "requires_payment_method"
    response = client.get(return_url(mine.order, their_payment))
    assert response.status_code == 404
