"""The Stripe webhook: verify the signature, record the event once (``stripe_event_record``) and
hand PaymentIntent events to the same services as the browser's return pages."""

import logging

from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from core.locking import Busy, lock_timeout

from .. import gateway
from ..errors import AmountMismatch, GatewayUnavailable, PaymentError, PaymentNotFound
from ..services import payment_confirm
from ..services.donations import donation_confirm
from ..services.stripe_events import stripe_event_record

log = logging.getLogger(__name__)


def _intent_confirm(intent_id: str) -> str:
    """Record a PaymentIntent event: an order's payment (``payment_confirm``), else a gift to Pass
    the Buck (``donation_confirm``; ``DonationNotFound`` when it is neither). Says what happened."""
    try:
        return payment_confirm(payment_intent_id=intent_id).outcome.value
    except PaymentNotFound:
        donation = donation_confirm(payment_intent_id=intent_id)
        return f"donation {donation.pk} {donation.outcome.value}"


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """Stripe's webhook: verify the signature on the raw body, record the event id (a repeat is a
    no-op), and hand PaymentIntent events to the same ``payment_confirm`` as the browser's return —
    or, for a gift to Pass the Buck, to the same ``donation_confirm`` as its return page.
    The event row and its effects commit together: a failure (503, Stripe retries) leaves no trace."""

    HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}

    def post(self, request):
        try:
            event = gateway.event_construct(request.body, request.headers.get("Stripe-Signature"))
        except gateway.WebhookMalformed as exc:  # signed by Stripe's secret, but not an event we can read
            log.warning("stripe webhook rejected: malformed event (%s)", exc)
            return HttpResponseBadRequest("malformed event")
        except gateway.WebhookInvalid as exc:
            log.warning("stripe webhook rejected: %s", exc)
            return HttpResponseBadRequest("invalid signature")
        try:
            with transaction.atomic(), lock_timeout():
                if not stripe_event_record(event_id=event.id, type=event.type):
                    log.info("stripe event %s: repeat, ignored", event.id)
                    return HttpResponse(status=200)
                if event.type in self.HANDLED:
                    intent_id = event.object_id
                    try:
                        log.info("stripe event %s (%s): %s", event.id, event.type, _intent_confirm(intent_id))
                    except PaymentNotFound:  # nor a gift's (DonationNotFound)
                        log.info("stripe event %s: intent %s is not ours", event.id, intent_id)
                    except gateway.IntentMissing:  # ours, but Stripe says "no such intent": retrying won't help
                        log.warning("stripe event %s: intent %s unknown to Stripe, acknowledged", event.id, intent_id)
                    except AmountMismatch:
                        log.error("stripe event %s: amount mismatch on %s", event.id, intent_id)
        except (Busy, GatewayUnavailable) as exc:
            log.warning("stripe event %s: %s, asking Stripe to retry", event.id, type(exc).__name__)
            return HttpResponse(status=503)
        except PaymentError as exc:  # anything else of ours: let Stripe retry later
            log.error("stripe event %s failed: %s", event.id, type(exc).__name__)
            return HttpResponse(status=500)
        return HttpResponse(status=200)
