"""Checkout payment pages: pay, the localstripe confirm step, the return from Stripe.js. Thin: find
the order, call one service, turn its outcome or error into a page or a redirect with a message.
The Stripe webhook is in ``finance.views.webhook``; gifts to Pass the Buck in ``finance.views.donations``."""

import logging
import re

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from core.locking import Busy
from enrollment.access import order_opened
from enrollment.models import Order, Registration
from enrollment.views.links import order_closed

from .. import gateway, selectors
from ..errors import (
    AmountMismatch,
    GatewayUnavailable,
    NothingToPay,
    PaymentError,
    PaymentNotFound,
    PaymentProcessing,
)
from ..models import Payment
from ..services import Outcome, payment_confirm, payment_confirm_local, payment_start
from ..services.scholarships import scholarships_apply

log = logging.getLogger(__name__)

S = Registration.Status
BUSY_MESSAGE = "We are busy right now. Please wait a moment and try again."
RETURN_MESSAGES = {
    Outcome.DECLINED: (messages.ERROR, "Your card was declined — try another card."),
    Outcome.AUTHENTICATION_FAILED: (
        messages.ERROR,
        "Your bank could not confirm this payment, so you have not been charged. Try again or use another card.",
    ),
    Outcome.REQUIRES_ACTION: (
        messages.WARNING,
        "Your bank needs you to confirm this payment. Select “Confirm with my bank” to finish.",
    ),
    Outcome.PROCESSING: (messages.INFO, PaymentProcessing.default_message),
    Outcome.CANCELED: (messages.ERROR, "The payment was canceled; you have not been charged. Please try again."),
}
INTENT_ID = re.compile(r"^pi_[A-Za-z0-9]+$")
PAYMENT_METHOD_ID = re.compile(r"^(pm|card|src)_[A-Za-z0-9]+$")


class OrderClosed(Exception):
    """This browser may not open the order (``enrollment.access``): it did not place it, did not
    follow its link, or the grant ran out."""


def _order(request, pk) -> Order:
    order = order_opened(request, pk)
    if order is None:
        raise OrderClosed
    return order


class _OrderPage(View):
    """An order's payment page, addressed by its id and opened by the session's grant."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except OrderClosed:
            return order_closed(request)


def _to_confirmation(request, order: Order):
    """The order's confirmation page (enrollment's)."""
    return redirect(reverse("enrollment:order-confirmation", args=[order.pk]))


def _busy(request, status=503):
    response = render(request, "finance/busy.html", {"message": BUSY_MESSAGE}, status=status)
    response["Retry-After"] = "5"
    return response


@method_decorator(never_cache, name="dispatch")
@method_decorator(gateway.stripe_page, name="dispatch")
class PayView(_OrderPage):
    """The payment page: what is being paid for, the time left on the hold, and the card form."""

    def get(self, request, pk):
        order = _order(request, pk)
        try:
            short = scholarships_apply(order=order)  # seats offered from the waitlist that asked for one
        except Busy:
            return _busy(request)
        for registration in short:
            why = {
                "fund": "the Pass the Buck fund can’t cover it right now",
                "limit": "they have reached this semester’s limit of scholarship classes",
                "started": "a payment at the full fee was already started",
            }.get(getattr(registration, "short_reason", ""), "it can’t be given now")
            messages.info(request, f"No scholarship for {registration.attendee_name} on this seat: {why}. The price "
                                   "below is the full fee; if you would rather not pay it, simply let the offer run out.")
        registrations = selectors.order_registrations(order)
        context = {"order": order, "registrations": registrations, "stripe_js_url": gateway.stripe_js_url(),
                   "publishable_key": gateway.publishable_key(), "local_stripe": gateway.is_local()}
        try:
            payment, client_secret = payment_start(order=order)
        except NothingToPay:
            if any(r.status in (S.CONFIRMED, S.WAITLISTED) for r in registrations):
                return _to_confirmation(request, order)
            return render(request, "finance/hold_expired.html", context)
        except PaymentProcessing as exc:
            return render(request, "finance/pay.html", context | {"notice": exc.message})
        except GatewayUnavailable as exc:
            return render(request, "finance/pay.html", context | {"gateway_error": exc.message}, status=503)
        except PaymentError as exc:  # e.g. an amount Stripe reports that does not match: staff look at it
            return render(request, "finance/pay.html", context | {"gateway_error": exc.message}, status=409)
        except Busy:
            return _busy(request)
        now = timezone.now()
        # What payment_start just charged for, from the order's registrations read above (the same
        # rule as selectors.registrations_payable; no second read).
        payable = [r for r in registrations if r.status in (S.HELD, S.OFFERED) and r.expires_at is not None
                   and r.expires_at > now and r.price > 0]
        expires_at = min(r.expires_at for r in payable) if payable else None
        context |= {
            "payment": payment, "client_secret": client_secret, "payable": payable, "expires_at": expires_at,
            "seconds_left": max(0, int((expires_at - now).total_seconds())) if expires_at else 0,
            "requires_action": getattr(payment, "intent_status", "") == "requires_action",
            "return_url": request.build_absolute_uri(reverse("finance:payment-return", args=[order.pk])),
        }
        return render(request, "finance/pay.html", context)


def local_confirm_response(request, *, confirm, return_path: str, gone: str) -> JsonResponse:
    """localstripe only (404 with real Stripe): the JSON answer checkout.js expects after the fake Stripe.js tokenized
    the card. ``confirm(intent_id, method)`` confirms the intent (raising ``PaymentNotFound`` —
    or a subclass — when it is not the page's); ``gone`` says so to the patron."""
    if not gateway.is_local():
        raise Http404
    intent_id = request.POST.get("payment_intent", "")
    method = request.POST.get("payment_method", "")
    if not INTENT_ID.match(intent_id) or not PAYMENT_METHOD_ID.match(method):
        return JsonResponse({"error": "Please check your card details."}, status=400)
    try:
        intent = confirm(intent_id, method)
    except PaymentNotFound:
        return JsonResponse({"error": gone}, status=404)
    except GatewayUnavailable as exc:
        return JsonResponse({"error": exc.message}, status=503)
    return JsonResponse({"status": intent.status, "return_url": f"{return_path}?payment_intent={intent_id}"})


class PayLocalConfirmView(View):
    """localstripe only (404 with real Stripe): confirm the PaymentIntent with the card the fake
    Stripe.js tokenized — the step real Stripe.js does itself. Answers JSON for checkout.js."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except OrderClosed:
            return JsonResponse({"error": "This page has timed out. Please open your order from your e-mail again."},
                                status=403)

    def post(self, request, pk):
        order = _order(request, pk)
        return local_confirm_response(
            request, return_path=reverse("finance:payment-return", args=[order.pk]),
            gone="This payment has expired. Please reload the page.",
            confirm=lambda intent_id, method: payment_confirm_local(order=order, payment_intent_id=intent_id,
                                                                    payment_method=method),
        )


@method_decorator(never_cache, name="dispatch")
class PaymentReturnView(_OrderPage):
    """Where the browser lands after Stripe.js: record what Stripe says, then go on."""

    def get(self, request, pk):
        order = _order(request, pk)
        intent_id = request.GET.get("payment_intent", "")
        if not INTENT_ID.match(intent_id) or not Payment.objects.filter(
            order=order, provider=Payment.Provider.CARD, reference=intent_id
        ).exists():
            raise Http404
        pay_url = reverse("finance:pay", args=[order.pk])
        try:
            result = payment_confirm(payment_intent_id=intent_id)
        except Busy:
            return _busy(request)
        except (GatewayUnavailable, AmountMismatch) as exc:
            messages.error(request, exc.message)
            return redirect(pay_url)
        if result.paid:
            if result.lost:
                messages.warning(request, "Your payment arrived after your hold ran out and the class had filled, "
                                          "so we refunded it to your card. We have e-mailed you the details.")
            return _to_confirmation(request, order)
        if result.outcome in RETURN_MESSAGES:
            level, text = RETURN_MESSAGES[result.outcome]
            messages.add_message(request, level, text)
        return redirect(pay_url)
