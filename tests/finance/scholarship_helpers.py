"""Helpers of the Pass the Buck scholarship tests: a buyer and attendees, the fund topped up, the
counts of every row a checkout can write, and a stand-in for Stripe's PaymentIntent and refund
calls, so ``payment_start`` and ``payment_confirm`` run for real without a server."""

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from core.models import OutboxMessage
from enrollment.models import Order, Registration, RegistrationEvent, ScholarshipWait
from enrollment.services import AttendeeInput, BuyerInput
from finance import gateway
from finance.models import FundEntry, Payment, Refund
from finance.services import payment_confirm, payment_start
from finance.services.fund import fund_donation_record

_keys = itertools.count(1)


def buyer(email: str = "jordan@example.org", *, first: str = "Jordan", last: str = "Patron",
          phone: str = "785-555-0100") -> BuyerInput:
    return BuyerInput(first_name=first, last_name=last, email=email, phone=phone)


def seat(course, first: str = "Alex", last: str = "Reader", *, scholarship: bool = True, **kwargs) -> AttendeeInput:
    """One attendee for ``course``, asking for a scholarship unless told otherwise."""
    return AttendeeInput(course_id=course.pk, first_name=first, last_name=last, scholarship=scholarship, **kwargs)


def donate(amount: str) -> FundEntry:
    """A donation straight into the ledger (no Donation row)."""
    return fund_donation_record(amount=Decimal(amount), dedupe_key=f"donation:direct-{next(_keys)}")


def rows() -> dict[str, int]:
    """How many rows of every kind a checkout, an award or a return can write."""
    return {
        "orders": Order.objects.count(), "registrations": Registration.objects.count(),
        "events": RegistrationEvent.objects.count(), "payments": Payment.objects.count(),
        "fund entries": FundEntry.objects.count(), "refunds": Refund.objects.count(),
        "outbox": OutboxMessage.objects.count(), "scholarship waits": ScholarshipWait.objects.count(),
    }


def scholarship_payments(registration) -> list[Payment]:
    return list(Payment.objects.filter(provider=Payment.Provider.SCHOLARSHIP, registrations=registration))


def succeeded_total(registration) -> Decimal:
    """Σ of the succeeded payments that cover ``registration`` (each payment covers one seat here)."""
    payments = Payment.objects.filter(registrations=registration, status=Payment.Status.SUCCEEDED)
    return sum((p.amount for p in payments), Decimal("0.00"))


@dataclass
class FakeIntent:
    id: str
    amount: int
    currency: str = gateway.CURRENCY
    status: str = "requires_payment_method"
    metadata: dict = field(default_factory=dict)

    @property
    def client_secret(self) -> str:
        return f"{self.id}_secret"

    def to_dict(self) -> dict:
        return {"id": self.id, "amount": self.amount, "status": self.status, "metadata": self.metadata}


@dataclass
class FakeRefund:
    id: str
    amount: int
    status: str = "succeeded"
    metadata: dict = field(default_factory=dict)


class FakeStripe:
    """finance.gateway's PaymentIntent and refund calls, answered from memory."""

    def __init__(self):
        self.intents: dict[str, FakeIntent] = {}
        self.refunds: list[FakeRefund] = []

    def intent_create(self, *, amount_cents: int, metadata: dict, idempotency_key: str) -> FakeIntent:
        intent = FakeIntent(id=f"pi_fake{len(self.intents) + 1}", amount=amount_cents, metadata=metadata)
        self.intents[intent.id] = intent
        return intent

    def intent_retrieve(self, intent_id: str) -> FakeIntent:
        if intent_id not in self.intents:
            raise gateway.IntentMissing()
        return self.intents[intent_id]

    def intent_cancel(self, intent_id: str) -> FakeIntent:
        self.intents[intent_id].status = "canceled"
        return self.intents[intent_id]

    def refund_find(self, *, payment_intent: str, dedupe_key: str):
        return next((r for r in self.refunds if r.metadata.get("dedupe_key") == dedupe_key), None)

    def refund_create(self, *, payment_intent: str, amount_cents: int, idempotency_key: str, metadata: dict):
        refund = FakeRefund(id=f"re_fake{len(self.refunds) + 1}", amount=amount_cents, metadata=metadata)
        self.refunds.append(refund)
        return refund

    def pay(self, order, *, now) -> Payment:
        """What the pay page and the card do: start the card payment for what is due, the card
        goes through, and the return page confirms it. Returns the card payment."""
        payment, _secret = payment_start(order=order, now=now)
        self.intents[payment.reference].status = "succeeded"
        payment_confirm(payment_intent_id=payment.reference, now=now)
        payment.refresh_from_db()
        return payment


def install_fake_stripe(monkeypatch) -> FakeStripe:
    """Answer finance.gateway's calls from a ``FakeStripe`` (for a ``fake_stripe`` fixture)."""
    fake = FakeStripe()
    monkeypatch.setattr(gateway, "local_webhook_register", lambda: None)
    for name in ("intent_create", "intent_retrieve", "intent_cancel", "refund_find", "refund_create"):
        monkeypatch.setattr(gateway, name, getattr(fake, name))
    return fake
