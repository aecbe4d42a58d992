"""The webhook's answer to correctly signed but malformed events (a logged 400, never a 500), to
signatures outside the time tolerance either way, and to intents Stripe does not know (200, so
Stripe stops retrying) as against Stripe being unreachable (503, so it retries)."""

import hashlib
import hmac
import json
import logging
import time

import pytest
from django.urls import reverse

from finance.models import Payment, StripeEvent

from .stripe_helpers import open_pay_page, post_webhook, signed_event

SECRET = "whsec_input_tests"


@pytest.fixture
def secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


def signed(body, *, timestamp=None) -> tuple[bytes, str]:
    """Any body (not only an event), signed the way Stripe signs."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def event(**changes) -> dict:
    body = {"id": "evt_input0001", "object": "event", "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_input0001", "object": "payment_intent"}}}
    body.update(changes)
    return body


MALFORMED = {
    "no data": {k: v for k, v in event().items() if k != "data"},
    "data not an object": event(data="nope"),
    "data without object": event(data={}),
    "no id": {k: v for k, v in event().items() if k != "id"},
    "numeric id": event(id=12345),
    "id longer than the column": event(id="evt_" + "x" * 300),
    "no type": {k: v for k, v in event().items() if k != "type"},
    "numeric intent id": event(data={"object": {"id": 4242, "object": "payment_intent"}}),
    "intent id longer than the column": event(data={"object": {"id": "pi_" + "x" * 301}}),
    "intent without id": event(data={"object": {"object": "payment_intent"}}),
    "a JSON array": [event()],
    "a JSON string": "evt_input0001",
    "not JSON": b"{not json",
    "not UTF-8": b"\xff\xfe{}",
}


@pytest.mark.django_db
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_event_is_a_logged_400(client, secret, body, caplog):
    caplog.set_level(logging.WARNING, logger="finance.views.webhook")
    response = post_webhook(client, *signed(body))
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    messages = [r.getMessage() for r in caplog.records if r.name == "finance.views.webhook"]
    assert any("malformed" in m for m in messages), messages
    assert not any(SECRET in m or "xxxxxxxxxx" in m for m in messages)  # no secret, no echo of the body


@pytest.mark.django_db
def test_a_well_formed_event_of_a_type_we_ignore_is_acknowledged(client, secret):
    body = event(type="customer.created", data={"object": {"id": "cus_1", "object": "customer"}})
    assert post_webhook(client, *signed(body)).status_code == 200
    assert StripeEvent.objects.filter(event_id="evt_input0001").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [-3600, -301, 301, 3600], ids=["an hour old", "just too old", "just ahead",
                                                                  "an hour ahead"])
def test_a_signature_outside_the_tolerance_either_way_is_refused(client, secret, offset):
    payload, header = signed(event(), timestamp=int(time.time()) + offset)
    assert post_webhook(client, payload, header).status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [-240, 0, 240])
def test_a_signature_inside_the_tolerance_is_accepted(client, secret, offset):
    body = event(type="customer.created", data={"object": {"id": "cus_1", "object": "customer"}})
    payload, header = signed(body, timestamp=int(time.time()) + offset)
    assert post_webhook(client, payload, header).status_code == 200


@pytest.mark.stripe
def test_an_intent_stripe_does_not_know_is_acknowledged_and_logged(client, browser, held, caplog):
    caplog.set_level(logging.INFO, logger="finance.views.webhook")
    _, payment, _ = open_pay_page(client, held.order)
    Payment.objects.filter(pk=payment.pk).update(reference="pi_vanished0000")  # Stripe answers "no such intent"
    payload, header = signed_event(browser.server.webhook_secret, {"id": "pi_vanished0000", "object": "payment_intent"})
    assert post_webhook(client, payload, header).status_code == 200
    assert any("unknown to Stripe" in r.getMessage() for r in caplog.records)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING


@pytest.mark.stripe
def test_stripe_unreachable_is_still_503_so_stripe_retries(client, browser, held, settings):
    _, payment, _ = open_pay_page(client, held.order)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    payload, header = signed_event(browser.server.webhook_secret, {"id": payment.reference, "object": "payment_intent"})
    assert post_webhook(client, payload, header).status_code == 503
    assert StripeEvent.objects.count() == 0  # not recorded: the retry is handled in full


def test_the_webhook_url():
    assert reverse("finance:stripe-webhook") == "/stripe/webhook/"
