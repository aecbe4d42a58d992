"""Helpers of the finance tests: the checkout steps as the page and checkout.js take them, and
webhook payloads signed like Stripe signs them."""

import hashlib
import hmac
import json
import threading
import time
import uuid

from django.db import connection
from django.test import Client
from django.urls import reverse

from finance.models import Payment
from tests.factories import open_order


def open_pay_page(client, order):
    """GET the payment page (from the order's link); returns (response, pending card payment,
    client secret)."""
    open_order(client, order)
    response = client.get(reverse("finance:pay", args=[order.pk]))
    assert response.status_code == 200, response.content[:500]
    payment = Payment.objects.get(order=order, provider=Payment.Provider.CARD, status=Payment.Status.PENDING)
    return response, payment, response.context["client_secret"]


def confirm_with_card(client, order, payment, card_id) -> dict:
    """What checkout.js does after the fake Stripe.js tokenized the card."""
    response = client.post(reverse("finance:pay-local-confirm", args=[order.pk]),
                           {"payment_intent": payment.reference, "payment_method": card_id})
    assert response.status_code == 200, response.content
    return response.json()


def return_url(order, payment) -> str:
    return reverse("finance:payment-return", args=[order.pk]) + f"?payment_intent={payment.reference}"


def confirmation_url(order) -> str:
    return reverse("enrollment:order-confirmation", args=[order.pk])


def assert_goes_to_confirmation(response, order):
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == confirmation_url(order)


def signed_event(secret: str, intent: dict, *, type: str = "payment_intent.succeeded", event_id: str | None = None,
                 timestamp: int | None = None) -> tuple[bytes, str]:
    """A webhook body and its ``Stripe-Signature`` header: ``t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<body>")>``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": type,
        "created": timestamp, "livemode": False, "api_version": "2017-08-15", "data": {"object": intent},
    }
    payload = json.dumps(event).encode()
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def post_webhook(client, payload: bytes, header: str):
    return client.post(reverse("finance:stripe-webhook"), data=payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=header)


def deliver_together(deliveries: list[tuple[bytes, str]], return_url: str, *, payer: Client) -> list[int]:
    """Every webhook delivery and the browser's return at once, each in its own thread with its
    own client and database connection, released together; returns their HTTP status codes.
    ``payer`` is the browser that paid: only its session may open the return page."""
    codes: list[int] = []
    start = threading.Barrier(len(deliveries) + 1)

    def run(call):
        try:
            start.wait(timeout=30)
            codes.append(call())
        finally:
            connection.close()

    calls = [lambda d=d: post_webhook(Client(), *d).status_code for d in deliveries]
    calls.append(lambda: payer.get(return_url).status_code)
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(codes) == len(threads), f"{len(threads) - len(codes)} deliveries did not finish"
    return codes
