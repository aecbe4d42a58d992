"""What a Stripe PaymentIntent's state means for the patron, for a class payment
(``finance.services.payments``) and a gift to Pass the Buck (``finance.services.donations``)
alike: the ``Outcome`` of a confirmation and ``intent_outcome`` for one that has not succeeded."""

import enum

from .. import gateway


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"  # paid now: registrations confirmed (and any lost seat refunded)
    ALREADY = "already"  # paid before (the browser or the webhook was first): nothing changed
    REQUIRES_ACTION = "requires_action"  # the bank wants the card holder to authenticate (3-D Secure)
    DECLINED = "declined"  # the card was refused: try another card
    AUTHENTICATION_FAILED = "authentication_failed"  # 3-D Secure failed or was cancelled
    PROCESSING = "processing"  # Stripe is still working on it
    CANCELED = "canceled"
    NOT_PAID = "not_paid"  # nothing happened yet (no card was tried)


def intent_outcome(intent) -> tuple[Outcome, str, str]:
    """(outcome, text for the patron, Stripe's error code) of a PaymentIntent that has not
    succeeded — for a class payment and for a gift alike."""
    code, message = gateway.last_error(intent)
    status = intent.status
    if status == "requires_action":
        return Outcome.REQUIRES_ACTION, "Waiting for the card holder's bank to confirm the payment.", code
    if status == "processing":
        return Outcome.PROCESSING, "", code
    if status == "canceled":
        return Outcome.CANCELED, "The payment was canceled.", code
    if status == "requires_payment_method" and (code or message):
        failed_auth = code == "payment_intent_authentication_failure"
        return (Outcome.AUTHENTICATION_FAILED if failed_auth else Outcome.DECLINED), message or code, code
    return Outcome.NOT_PAID, "", code
