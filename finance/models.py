"""Payments and refunds. A payment moves money in for one or more registrations of an order;
a refund moves money back for one registration. Neither is ever deleted. The Pass the Buck fund
is a ledger of append-only entries (``Fund``, ``FundEntry``)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
    gift_amount = models.DecimalField(
        default=0, **MONEY, help_text="The part of this payment that is a gift to Pass the Buck (not class income).",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["order", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(gift_amount__gte=0) & Q(gift_amount__lte=models.F("amount")),
                                   name="payment_gift_within_amount"),
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


class Donation(models.Model):
    """A gift to Pass the Buck, taken at the desk (cash or check) or given online by card (its
    PaymentIntent id in ``reference``). A succeeded donation has exactly one fund entry,
    ``dedupe_key="donation:<pk>"`` (``finance.services.donations``). The receipt number is derived
    from the primary key (:attr:`receipt_number`), never stored; the donor's pages are addressed by
    the unguessable ``token``, never by the id."""

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        CARD = "card", "Card"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    address = models.TextField("Postal address", blank=True)
    amount = models.DecimalField(**MONEY)
    method = models.CharField(max_length=8, choices=Method.choices)
    reference = models.CharField(max_length=120, blank=True,
                                 help_text="The check number, or the Stripe PaymentIntent id of a card gift.")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                             help_text="Addresses the donor's own pages (card step, thank-you).")
    failure_message = models.CharField(max_length=300, blank=True,
                                       help_text="Why the last card attempt did not go through.")
    dedication = models.CharField(max_length=200, blank=True, help_text='"In honor of …", as the donor asked.')
    anonymous = models.BooleanField(
        default=False, help_text="Never listed publicly or on thank-you lists by name (the receipt still is theirs)."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="gift",
                                   help_text="The class payment a gift added at checkout came with.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    RECEIPT_PREFIX = "D-"

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive"),
            models.CheckConstraint(condition=~Q(method="check") | ~Q(reference=""), name="donation_check_has_number"),
            models.CheckConstraint(condition=~Q(status="succeeded") | Q(succeeded_at__isnull=False),
                                   name="donation_succeeded_has_time"),
            models.UniqueConstraint(fields=["reference"], condition=Q(method="card") & ~Q(reference=""),
                                    name="donation_card_reference_unique"),
        ]

    def __str__(self):
        return f"Donation {self.receipt_number}"

    @property
    def receipt_number(self) -> str:
        return f"{self.RECEIPT_PREFIX}{self.pk:06d}" if self.pk else ""

    @property
    def donor_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class StripeEvent(models.Model):
    """A webhook event already handled: a repeat delivery of the same id is a no-op."""

    event_id = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=80)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return self.event_id


class Fund(TimeStampedModel):
    """Pass the Buck, the scholarship fund: one row, read with :meth:`current`. Its balance is the
    sum of its entries (``finance.services.fund.fund_balance``); the row itself is what an award
    locks, so that two checkouts never spend the same dollars."""

    PASS_THE_BUCK = "Pass the Buck"

    name = models.CharField(max_length=80, unique=True, default=PASS_THE_BUCK)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def current(cls) -> "Fund":
        """The Pass the Buck fund, made on first use."""
        return cls.objects.get_or_create(name=cls.PASS_THE_BUCK)[0]


class ImmutableEntry(Exception):
    """A fund entry is never edited or deleted: a mistake is corrected by an adjustment."""


class FundEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableEntry("Fund entries cannot be edited; record an adjustment instead.")

    def delete(self):
        raise ImmutableEntry("Fund entries cannot be deleted; record an adjustment instead.")


class FundEntry(models.Model):
    """One line of the fund's ledger, append-only: donation (+), scholarship award (−), award
    returned (+), adjustment (±, with a reason). Written only by ``finance.services.fund``; the
    ``dedupe_key`` names the cause (``award:<registration id>``…) so each is booked once."""

    class Kind(models.TextChoices):
        DONATION = "donation", "Donation"
        AWARD = "award", "Scholarship award"
        AWARD_RETURNED = "award_returned", "Award returned"
        ADJUSTMENT = "adjustment", "Adjustment"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(**MONEY, help_text="Signed: + into the fund, − out of it.")
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="fund_entries", help_text="The seat an award paid half of.")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="fund_entries", help_text="The payment a donation came with.")
    dedupe_key = models.CharField(max_length=120, unique=True, help_text="One entry per cause.")

    objects = FundEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "fund entries"
        indexes = [models.Index(fields=["fund", "kind"])]
        permissions = [
            ("adjust_fund", "Can adjust the Pass the Buck fund, with a reason"),
            ("grant_scholarship", "Can grant a Pass the Buck scholarship at the desk"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="donation", amount__gt=0)
                    | Q(kind="award", amount__lt=0)
                    | Q(kind="award_returned", amount__gt=0)
                    | (Q(kind="adjustment") & ~Q(amount=0))
                ),
                name="fundentry_sign_matches_kind",
            ),
            models.CheckConstraint(condition=~Q(kind="adjustment") | ~Q(reason=""),
                                   name="fundentry_adjustment_has_reason"),
            models.CheckConstraint(
                condition=~Q(kind__in=["award", "award_returned"]) | Q(registration__isnull=False),
                name="fundentry_award_has_registration",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+.2f}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEntry("Fund entries cannot be edited; record an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEntry("Fund entries cannot be deleted; record an adjustment instead.")
