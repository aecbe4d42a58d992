"""Stripe webhook events already handled: recording an event id once, so a repeat delivery of
the same event is a no-op (``finance.views.webhook``)."""

from django.db import IntegrityError, transaction

from ..models import StripeEvent


def stripe_event_record(*, event_id: str, type: str) -> bool:
    """Record a webhook event as handled; False when it was recorded before (a repeat). Runs in
    its own savepoint, so a repeat leaves the caller's transaction usable; call it inside the
    transaction that handles the event, so the row and the event's effects commit together."""
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event_id, type=type)
    except IntegrityError:
        return False
    return True
