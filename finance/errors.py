"""Domain errors of finance. Views turn them into messages; the webhook turns some into HTTP codes.

The split that matters to a patron (django-oscar's): ``CardDeclined`` means "try another card";
``GatewayUnavailable`` means our side (or Stripe) broke and the patron has not been charged.
"""


class PaymentError(Exception):
    """``message`` is the patron's wording; ``detail`` what really happened, for staff (no secrets)."""

    def __init__(self, message: str = ""):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.detail = ""

    default_message = "The payment could not be taken."


class NothingToPay(PaymentError):
    """No registration of the order is held (or offered) and unpaid right now."""

    default_message = "There is nothing to pay for this order."


class AlreadyPaid(NothingToPay):
    """The order's payment went through while the page was open (the browser or the webhook was first)."""

    default_message = "This order has been paid."


class PaymentProcessing(PaymentError):
    default_message = "Your payment is still being processed. Please wait a moment and reload this page."


class PaymentNotFound(PaymentError):
    """No payment of ours has this PaymentIntent (or it belongs to another order)."""

    default_message = "We could not find that payment."


class DonationNotFound(PaymentNotFound):
    """No card donation of ours has this PaymentIntent (or it is not this donation's)."""

    default_message = "We could not find that gift."


class AmountMismatch(PaymentError):
    """Stripe reports a different amount or currency than the payment row: never confirm it."""

    default_message = "The payment amount did not match. Staff have been told; you have not been registered yet."


class CardDeclined(PaymentError):
    default_message = "Your card was declined — try another card."


class GatewayUnavailable(PaymentError):
    """Stripe could not be reached, or answered something we did not expect (our side broke)."""

    default_message = "We could not reach the payment service; you have not been charged, please try again."
