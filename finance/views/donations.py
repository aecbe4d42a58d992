"""The public Pass the Buck pages: give (``/give/``), pay by card, the browser's return from
Stripe.js, and the thank-you page. Thin, like the checkout's payment pages: bind the form, call one
service, turn its outcome or error into a page or a redirect with a message.

A gift's pages are opened by the browser that started it: starting a gift puts a grant for it in
the session (``enrollment.access``) and its pages are at ``/give/gifts/<id>/…``, so no secret is
in their URLs (nor in the access log). The older addresses with the gift's unguessable token
(``/give/<token>/…``: return addresses of payments started before) grant it and redirect there.
"""

import datetime as dt
import logging

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from core.locking import Busy
from enrollment.access import object_grant, object_granted
from enrollment.forms import form_error_summary

from .. import gateway
from ..errors import AmountMismatch, GatewayUnavailable
from ..models import Donation
from ..services.donations import (
    DonationInvalid,
    DonationNotPayable,
    donation_card_resume,
    donation_confirm,
    donation_confirm_local,
    donation_start_card,
)
from ..services.intents import Outcome
from .forms import GiftForm
from .payments import INTENT_ID, RETURN_MESSAGES, _busy, local_confirm_response

log = logging.getLogger(__name__)

private = method_decorator(never_cache, name="dispatch")


GIFTS_KEY = "gift_grants"
#: How long a gift's pages stay open in the browser that started it.
GIFT_FOR = dt.timedelta(hours=6)


class GiftClosed(Exception):
    """This browser did not start the gift, or its grant ran out."""


def _gift(request, pk) -> Donation:
    if not object_granted(request, GIFTS_KEY, pk):
        raise GiftClosed
    return get_object_or_404(Donation, pk=pk, method=Donation.Method.CARD)


def _to_gift(request, donation: Donation, name: str, query: str = ""):
    object_grant(request, GIFTS_KEY, donation.pk, lasts=GIFT_FOR)
    url = reverse(name, args=[donation.pk])
    return redirect(f"{url}?{query}" if query else url)


class _GiftPage(View):
    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except GiftClosed:
            return render(request, "finance/donate_closed.html", status=403)


def _summary(form: GiftForm) -> list:
    """The error summary, each item linked to its field (the radio group's to its first radio)."""
    items = form_error_summary(form)
    for item in items:
        if item.href == "#id_choice":
            item.href = "#id_choice_0"
    return items


@private
class GiftView(View):
    """``/give/``: what Pass the Buck is, and the gift form. A valid gift goes to the card step."""

    template = "finance/donate.html"

    def _render(self, request, form, *, status=200, gateway_error=""):
        return render(request, self.template, {"form": form, "errors": _summary(form) if form.is_bound else [],
                                               "gateway_error": gateway_error}, status=status)

    def get(self, request):
        return self._render(request, GiftForm())

    def post(self, request):
        form = GiftForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        data = form.cleaned_data
        try:
            donation, _ = donation_start_card(
                first_name=data["first_name"], last_name=data["last_name"], email=data["email"],
                address=data["address"], amount=data["amount"], dedication=data["dedication"],
                anonymous=data["anonymous"],
            )
        except DonationInvalid as exc:
            form.attach_error(exc.field, exc.message)
            return self._render(request, form, status=400)
        except GatewayUnavailable as exc:
            return self._render(request, form, status=503, gateway_error=exc.message)
        return _to_gift(request, donation, "finance:donate-pay")


@private
class GiftLinkView(View):
    """``/give/<token>/…``: the gift's token, exchanged for a grant and its page without it."""

    target = "finance:donate-pay"

    def get(self, request, token):
        donation = get_object_or_404(Donation, token=token, method=Donation.Method.CARD)
        return _to_gift(request, donation, self.target, request.META.get("QUERY_STRING", ""))


class GiftReturnLinkView(GiftLinkView):
    target = "finance:donate-return"


class GiftThanksLinkView(GiftLinkView):
    target = "finance:donate-thanks"


@private
@method_decorator(gateway.stripe_page, name="dispatch")
class GiftPayView(_GiftPage):
    """The card step: the gift, and the same card field as the class payment page."""

    def get(self, request, pk):
        donation = _gift(request, pk)
        thanks = reverse("finance:donate-thanks", args=[donation.pk])
        if donation.status == Donation.Status.SUCCEEDED:
            return redirect(thanks)
        context = {"donation": donation, "stripe_js_url": gateway.stripe_js_url(),
                   "publishable_key": gateway.publishable_key(), "local_stripe": gateway.is_local()}
        try:
            donation, client_secret, intent_status = donation_card_resume(donation=donation)
        except DonationNotPayable as exc:
            return render(request, "finance/donate_pay.html", context | {"closed": exc.message}, status=410)
        except GatewayUnavailable as exc:
            return render(request, "finance/donate_pay.html", context | {"gateway_error": exc.message}, status=503)
        except AmountMismatch as exc:
            return render(request, "finance/donate_pay.html", context | {"gateway_error": exc.message}, status=409)
        except Busy:
            return _busy(request)
        if donation.status == Donation.Status.SUCCEEDED:
            return redirect(thanks)
        if intent_status == "processing":
            return render(request, "finance/donate_pay.html", context | {
                "notice": "Your payment is still being processed. Please wait a moment and reload this page."})
        context |= {
            "donation": donation, "client_secret": client_secret,
            "requires_action": intent_status == "requires_action",
            "return_url": request.build_absolute_uri(reverse("finance:donate-return", args=[donation.pk])),
        }
        return render(request, "finance/donate_pay.html", context)


class GiftLocalConfirmView(View):
    """localstripe only (404 with real Stripe): confirm the gift's PaymentIntent with the card the
    fake Stripe.js tokenized — the step real Stripe.js does itself. Answers JSON for checkout.js."""

    def post(self, request, pk):
        try:
            donation = _gift(request, pk)
        except GiftClosed:
            return JsonResponse({"error": "This page has timed out. Please start your gift again."}, status=403)
        return local_confirm_response(
            request, return_path=reverse("finance:donate-return", args=[donation.pk]),
            gone="This gift has already been paid or has expired. Please reload the page.",
            confirm=lambda intent_id, method: donation_confirm_local(donation=donation, payment_intent_id=intent_id,
                                                                     payment_method=method),
        )


@private
class GiftReturnView(_GiftPage):
    """Where the browser lands after Stripe.js: record what Stripe says, then thank the donor or
    send them back to the card step with the reason."""

    def get(self, request, pk):
        donation = _gift(request, pk)
        intent_id = request.GET.get("payment_intent", "")
        pay_url = reverse("finance:donate-pay", args=[donation.pk])
        if not INTENT_ID.match(intent_id) or intent_id != donation.reference:
            # Not this gift's intent now (e.g. "Back" to the return of a declined card, whose
            # intent was replaced): the card step says where the gift stands.
            return redirect(pay_url)
        try:
            donation = donation_confirm(payment_intent_id=intent_id)
        except Busy:
            return _busy(request)
        except (GatewayUnavailable, AmountMismatch) as exc:
            messages.error(request, exc.message)
            return redirect(pay_url)
        if donation.outcome in (Outcome.SUCCEEDED, Outcome.ALREADY):
            return redirect("finance:donate-thanks", pk=donation.pk)
        if donation.outcome in RETURN_MESSAGES:
            level, text = RETURN_MESSAGES[donation.outcome]
            messages.add_message(request, level, text)
        return redirect(pay_url)


@private
class GiftThanksView(_GiftPage):
    """The thank-you page: the amount, the receipt number, and where the receipt was e-mailed."""

    def get(self, request, pk):
        donation = _gift(request, pk)
        if donation.status != Donation.Status.SUCCEEDED:
            return redirect("finance:donate-pay", pk=donation.pk)
        return render(request, "finance/donate_thanks.html", {"donation": donation})
