"""Base model and the site-wide options that staff edit in the back office."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True


class SiteOptions(models.Model):
    """One row of options that staff change without a deploy (the library's name, rates, texts).

    Read it with :func:`SiteOptions.current`; there is exactly one row, made on first use.
    """

    library_name = models.CharField(max_length=120, default="Public Library")
    program_name = models.CharField(max_length=120, default="Library Classes")
    street_address = models.CharField(max_length=200, blank=True)
    city_state_zip = models.CharField("City, state and ZIP", max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField("Program e-mail", blank=True)
    staff_hourly_rate = models.DecimalField(
        "Staff time rate ($/hour)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Used for the staff-time line of every course budget.",
    )
    default_instructor_rate = models.DecimalField(
        "Default instructor pay ($/class hour)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("15.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = "site options"
        verbose_name_plural = "site options"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff_hourly_rate__gte=0) & models.Q(default_instructor_rate__gte=0),
                name="siteoptions_rates_not_negative",
            )
        ]

    def __str__(self):
        return f"Options for {self.program_name}"

    @classmethod
    def current(cls) -> "SiteOptions":
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            obj, _ = cls.objects.get_or_create(pk=1)
        return obj
