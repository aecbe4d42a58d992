"""Payments and refunds without a Stripe server: the webhook's guards, the payment page's
fallbacks, attribution of a payment to its registrations, cash/check refunds and the back office."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.locking import Busy
from core.models import OutboxMessage
from enrollment.models import Registration
from enrollment.services import registration_cancel
from finance import gateway, services
from finance.models import Payment, Refund, StripeEvent
from finance.selectors import payment_shares
from finance.views import webhook as views
from tests.factories import OrderFactory, RegistrationFactory, course_with_meetings, open_order

from .conftest import place, require_postgres
from .stripe_helpers import post_webhook, signed_event

S = Registration.Status
SECRET = "whsec_test_unit"
INTENT = {"id": "pi_unit123", "object": "payment_intent", "amount": 2500, "currency": "usd", "status": "succeeded"}


@pytest.fixture
def stripe_down(settings):
    """Stripe configured, but nothing answers at its address."""
    settings.STRIPE_SECRET_KEY = "sk_test_unit"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_unit"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_LOCAL_WEBHOOK_URL = ""


def paid_registration(course, *, provider=Payment.Provider.CASH, price=None):
    """A confirmed registration paid in full at the desk."""
    registration = RegistrationFactory(course=course, **({"price": price} if price is not None else {}))
    payment = Payment.objects.create(order=registration.order, provider=provider, amount=registration.price,
                                     status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now(),
                                     reference="1234" if provider == Payment.Provider.CHECK else "")
    payment.registrations.set([registration])
    return registration, payment


# --- the webhook's guards -------------------------------------------------------------------------

@pytest.mark.django_db
def test_webhook_with_a_forged_signature_is_refused_and_changes_nothing(client, settings, held):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    payload, header = signed_event("whsec_forger", INTENT)
    assert post_webhook(client, payload, header).status_code == 400
    payload, _ = signed_event(SECRET, INTENT)
    tampered = payload.replace(b'"amount": 2500', b'"amount": 1')
    _, header = signed_event(SECRET, INTENT)
    assert post_webhook(client, tampered, header).status_code == 400
    assert post_webhook(client, payload, "").status_code == 400
    assert StripeEvent.objects.count() == 0
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD


@pytest.mark.django_db
def test_webhook_with_a_stale_timestamp_is_refused(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    payload, header = signed_event(SECRET, INTENT, timestamp=int(time.time()) - 301)
    assert post_webhook(client, payload, header).status_code == 400
    payload, header = signed_event(SECRET, {"id": "ch_1", "object": "charge"}, type="charge.succeeded",
                                   timestamp=int(time.time()) - 200)
    assert post_webhook(client, payload, header).status_code == 200  # inside the 300 s tolerance
    assert StripeEvent.objects.count() == 1


@pytest.mark.django_db
def test_webhook_without_a_configured_secret_refuses_everything(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload, header = signed_event("", INTENT)
    assert post_webhook(client, payload, header).status_code == 400


@pytest.mark.django_db
def test_webhook_answers_only_post(client):
    assert client.get(reverse("finance:stripe-webhook")).status_code == 405


@pytest.mark.django_db
def test_a_repeated_event_is_a_no_op(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    payload, header = signed_event(SECRET, {"id": "ch_1", "object": "charge"}, type="charge.succeeded",
                                   event_id="evt_repeat")
    assert [post_webhook(client, payload, header).status_code for _ in range(3)] == [200, 200, 200]
    assert list(StripeEvent.objects.values_list("event_id", "type")) == [("evt_repeat", "charge.succeeded")]


@pytest.mark.django_db
def test_webhook_asks_stripe_to_retry_when_stripe_cannot_be_read(client, stripe_down):
    payload, header = signed_event(SECRET, INTENT, event_id="evt_retry")
    assert post_webhook(client, payload, header).status_code == 503
    assert StripeEvent.objects.count() == 0  # not recorded: the retry is handled, not ignored


@pytest.mark.django_db
def test_webhook_answers_503_when_busy_and_records_nothing(client, settings, monkeypatch):
    settings.STRIPE_WEBHOOK_SECRET = SECRET

    def busy(**kwargs):
        raise Busy("busy")

    monkeypatch.setattr(views, "payment_confirm", busy)
    payload, header = signed_event(SECRET, INTENT, event_id="evt_busy")
    assert post_webhook(client, payload, header).status_code == 503
    assert StripeEvent.objects.count() == 0
    monkeypatch.setattr(views, "payment_confirm", lambda **kwargs: services.ConfirmResult(
        payment=Payment(), outcome=services.Outcome.ALREADY))
    assert post_webhook(client, payload, header).status_code == 200
    assert StripeEvent.objects.count() == 1


# --- the payment page without Stripe ----------------------------------------------------------------

@pytest.mark.django_db
def test_pay_page_when_stripe_is_unreachable_says_nothing_was_charged(client, stripe_down, held):
    open_order(client, held.order)
    response = client.get(reverse("finance:pay", args=[held.order.pk]))
    assert response.status_code == 503
    html = response.content.decode()
    assert "We could not reach the payment service; you have not been charged, please try again." in html
    assert 'role="alert"' in html and "card-element" not in html
    assert not Payment.objects.exists()
    assert Registration.objects.get(pk=held.held[0].pk).status == S.HELD


@pytest.mark.django_db
def test_pay_page_when_stripe_is_not_configured(client, settings, held):
    settings.STRIPE_SECRET_KEY = ""
    open_order(client, held.order)
    response = client.get(reverse("finance:pay", args=[held.order.pk]))
    assert response.status_code == 503
    assert "you have not been charged" in response.content.decode()


@pytest.mark.django_db
def test_pay_page_for_a_paid_order_goes_to_the_confirmation(client, stripe_down, course):
    registration = RegistrationFactory(course=course)  # confirmed
    open_order(client, registration.order)
    response = client.get(reverse("finance:pay", args=[registration.order.pk]))
    expected = reverse("enrollment:order-confirmation", args=[registration.order.pk])
    assert response.status_code == 302 and response["Location"] == expected


@pytest.mark.django_db
def test_pay_page_after_the_hold_ran_out_says_so_kindly(client, stripe_down, course):
    result = place(course, now=timezone.now() - dt.timedelta(hours=1))
    open_order(client, result.order)
    response = client.get(reverse("finance:pay", args=[result.order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your hold has run out" in html and "you have not been charged" in html
    assert reverse("classes:home") in html and "Back to all classes" in html


@pytest.mark.django_db
def test_pay_page_for_an_unknown_order_is_404(client):
    assert client.get("/checkout/00000000-0000-0000-0000-000000000000/pay/").status_code == 404


@pytest.mark.django_db
def test_local_confirm_exists_only_with_the_local_test_double(client, settings, held):
    settings.STRIPE_SECRET_KEY = "sk_live_unit"
    settings.STRIPE_API_BASE = ""
    open_order(client, held.order)
    response = client.post(reverse("finance:pay-local-confirm", args=[held.order.pk]),
                           {"payment_intent": "pi_x", "payment_method": "card_x"})
    assert response.status_code == 404


@pytest.mark.django_db
def test_return_for_an_intent_that_is_not_the_orders_is_404(client, held):
    open_order(client, held.order)
    url = reverse("finance:payment-return", args=[held.order.pk])
    assert client.get(url + "?payment_intent=pi_nothere").status_code == 404
    assert client.get(url).status_code == 404


def test_stripe_js_comes_from_localstripe_only_when_the_api_is_local(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420/"
    assert gateway.stripe_js_url() == "http://127.0.0.1:8420/js.stripe.com/v3/"
    settings.STRIPE_API_BASE = ""
    assert gateway.stripe_js_url() == "https://js.stripe.com/v3/"


# --- attribution ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_payment_is_attributed_to_its_registrations_by_price(course):
    order = OrderFactory()
    cheap = RegistrationFactory(order=order, course=course, price=Decimal("10.00"))
    dear = RegistrationFactory(order=order, course=course_with_meetings(), price=Decimal("20.00"))
    payment = Payment.objects.create(order=order, provider=Payment.Provider.CARD, amount=Decimal("30.00"),
                                     reference="pi_attr")
    payment.registrations.set([cheap, dear])
    assert payment_shares(payment) == {cheap.pk: Decimal("10.00"), dear.pk: Decimal("20.00")}
    payment.amount = Decimal("10.00")  # an odd amount still adds up to the cent
    shares = payment_shares(payment)
    assert shares == {cheap.pk: Decimal("3.33"), dear.pk: Decimal("6.67")} and sum(shares.values()) == payment.amount


# --- refunds without Stripe ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_cash_refund_waits_for_staff_and_is_made_once(course):
    registration, payment = paid_registration(course)
    registration_cancel(registration_id=registration.pk)
    [refund] = services.refunds_settle(registration_id=registration.pk, reason="changed plans")
    assert services.refunds_settle(registration_id=registration.pk) == []
    assert refund.status == Refund.Status.PENDING and refund.amount == registration.price
    assert refund.payment == payment and refund.dedupe_key == f"cancel:{registration.pk}"
    assert refund.reason == "changed plans"
    assert not OutboxMessage.objects.filter(template="refund_issued").exists()  # not issued yet


@pytest.mark.django_db
def test_a_seat_paid_twice_and_refunded_once_still_gets_its_cancellation_refund(course):
    registration, first = paid_registration(course)
    second = Payment.objects.create(order=registration.order, provider=Payment.Provider.CASH, amount=registration.price,
                                    status=Payment.Status.SUCCEEDED, succeeded_at=timezone.now())
    second.registrations.set([registration])
    services.refund_create_once(payment=second, registration=registration, amount=registration.price,
                                key=f"duplicate:{second.pk}:{registration.pk}", reason="paid twice")
    registration_cancel(registration_id=registration.pk)
    [refund] = services.refunds_settle(registration_id=registration.pk)
    assert refund.payment == first and refund.amount == registration.price
    assert services.refunds_settle(registration_id=registration.pk) == []


@pytest.mark.django_db
def test_nothing_is_refunded_before_cancelling_or_after_the_cutoff(course):
    registration, _ = paid_registration(course)
    assert services.refunds_settle(registration_id=registration.pk) == []  # still confirmed
    late = registration.course.registration_closes_at + dt.timedelta(hours=1)
    registration_cancel(registration_id=registration.pk, now=late)
    assert services.refunds_settle(registration_id=registration.pk, now=late) == []
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_an_unpaid_cancellation_refunds_nothing(course):
    registration = RegistrationFactory(course=course)  # confirmed with no payment (staff comp)
    registration_cancel(registration_id=registration.pk)
    assert services.refunds_settle(registration_id=registration.pk) == []


@pytest.mark.django_db
def test_staff_mark_a_check_refund_issued_with_its_check_number(staff_client, course):
    registration, _ = paid_registration(course, provider=Payment.Provider.CHECK)
    registration_cancel(registration_id=registration.pk)
    [refund] = services.refunds_settle(registration_id=registration.pk)
    url = reverse("admin:finance_refund_changelist")
    data = {"action": "mark_issued", "_selected_action": [refund.pk]}
    page = staff_client.post(url, data)
    assert page.status_code == 200 and "Refund check number" in page.content.decode()
    data |= {"apply": "yes", "issue-TOTAL_FORMS": "1", "issue-INITIAL_FORMS": "1",
             "issue-0-refund_id": str(refund.pk), "issue-0-reference": "  10452 "}
    response = staff_client.post(url, data)
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == Refund.Status.DONE and refund.reference == "10452"
    assert refund.issued_by == staff_client.user and refund.done_at
    mail = OutboxMessage.objects.get(template="refund_issued")
    assert "check number 10452" in mail.body_text


@pytest.mark.django_db
def test_mark_issued_asks_for_the_number_and_ignores_card_refunds(staff_client, course):
    registration, _ = paid_registration(course, provider=Payment.Provider.CARD)
    registration_cancel(registration_id=registration.pk)
    refund = services.refund_create_once(payment=registration.payments.get(), registration=registration,
                                         amount=registration.price, key="cancel:x", reason="test")
    url = reverse("admin:finance_refund_changelist")
    response = staff_client.post(url, {"action": "mark_issued", "_selected_action": [refund.pk]}, follow=True)
    assert "card refunds are made through Stripe" in response.content.decode()
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.PENDING


@pytest.mark.django_db
def test_the_back_office_lists_are_read_only(staff_client, course):
    registration, payment = paid_registration(course)
    registration_cancel(registration_id=registration.pk)
    [refund] = services.refunds_settle(registration_id=registration.pk)
    StripeEvent.objects.create(event_id="evt_admin", type="payment_intent.succeeded")
    for name in ("payment", "refund", "stripeevent"):
        assert staff_client.get(reverse(f"admin:finance_{name}_changelist")).status_code == 200
        assert staff_client.get(reverse(f"admin:finance_{name}_add")).status_code == 403
    page = staff_client.get(reverse("admin:finance_refund_change", args=[refund.pk]))
    assert page.status_code == 200 and b'name="amount"' not in page.content
    page = staff_client.get(reverse("admin:finance_payment_change", args=[payment.pk]))
    assert page.status_code == 200 and b'name="status"' not in page.content


@pytest.mark.django_db(transaction=True)
def test_settling_concurrently_refunds_once(settings):
    require_postgres("concurrent settlement")
    settings.DB_LOCK_TIMEOUT_MS = 20_000
    course = course_with_meetings(capacity=5)
    registration, _ = paid_registration(course)
    registration_cancel(registration_id=registration.pk)
    made: list[int] = []
    start = threading.Barrier(8)

    def settle():
        try:
            start.wait(timeout=30)
            made.append(len(services.refunds_settle(registration_id=registration.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=settle) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(made) == [0] * 7 + [1]
    assert Refund.objects.filter(registration=registration).count() == 1
