"""Payments and refunds. A payment moves money in for one or more registrations of an order;
a refund moves money back for one registration. Neither is ever deleted."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from enrollment.models import Order, Registration

MONEY = {"max_digits": 10, "decimal_places": 2}


class Payment(TimeStampedModel):
    class Provider(models.TextChoices):
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        SCHOLARSHIP = "scholarship", "Scholarship"
        FREE = "free", "Free"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    registrations = models.ManyToManyField(Registration, related_name="payments", help_text="What this payment is for.")
    provider = models.CharField(max_length=12, choices=Provider.choices)
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(max_length=120, blank=True, help_text="Stripe PaymentIntent id, check number…")
    payer = models.CharField(max_length=160, blank=True, help_text="Who wrote the check (desk payments).")
    failure_message = models.CharField(max_length=300, blank=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["order", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "reference"], condition=Q(provider="card"), name="payment_card_reference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(provider="check") | ~Q(reference=""), name="payment_check_has_number"
            ),
        ]
        permissions = [
            ("take_offline_payment", "Can take cash and check payments at the desk"),
            ("view_money_reports", "Can see deposit and income reports"),
        ]

    def __str__(self):
        return f"{self.get_provider_display()} payment #{self.pk} ({self.get_status_display()})"


class Refund(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "To issue"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="refunds", null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300)
    reference = models.CharField(max_length=120, blank=True, help_text="Stripe refund id or refund check number.")
    dedupe_key = models.CharField(max_length=120, unique=True, help_text="One refund per cause.")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Calls to Stripe made for this refund.")
    last_error = models.CharField(max_length=300, blank=True, help_text="Why the last Stripe call failed.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
        permissions = [
            ("issue_refund", "Can refund payments (card, cash and check)"),
            ("refund_outside_policy", "Can refund outside the refund policy, with a reason"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Refund #{self.pk} ({self.get_status_display()})"

    @property
    def provider(self) -> str:
        return self.payment.provider


class StripeEvent(models.Model):
    """A webhook event already handled: a repeat delivery of the same id is a no-op."""

    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=80)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return self.event_id
