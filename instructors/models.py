from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from core.models import TimeStampedModel


class Instructor(TimeStampedModel):
    """A community instructor (or a library staff member) who teaches courses."""

    class PayBasis(models.TextChoices):
        HOURLY = "hourly", "Paid per class hour"
        VOLUNTEER = "volunteer", "Volunteer"

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    bio = models.TextField(blank=True, help_text="Shown to patrons on each course page.")
    pay_basis = models.CharField(max_length=12, choices=PayBasis.choices, default=PayBasis.HOURLY)
    hourly_rate = models.DecimalField(
        "Pay per class hour",
        max_digits=8,
        decimal_places=2,
        default=Decimal("15.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Ignored for volunteers.",
    )
    is_library_staff = models.BooleanField("Library staff", default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hourly_rate__gte=0), name="instructor_rate_not_negative"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_volunteer(self) -> bool:
        return self.pay_basis == self.PayBasis.VOLUNTEER

    @property
    def effective_rate(self) -> Decimal:
        """What one class hour costs the program: zero for volunteers."""
        return Decimal("0.00") if self.is_volunteer else self.hourly_rate

    def clean(self):
        if self.pay_basis == self.PayBasis.HOURLY and self.hourly_rate is not None and self.hourly_rate <= 0:
            raise ValidationError({"hourly_rate": "A paid instructor needs a rate above $0 (or mark them a volunteer)."})
