"""Registrations: one attendee's seat (or place in line) in one course.

Only the services in ``enrollment.services`` change a status, following ``TRANSITIONS``.
"""

from django.db import models
from django.db.models import Q

from classes.models import Course
from core.models import TimeStampedModel


class Registration(TimeStampedModel):
    class Status(models.TextChoices):
        HELD = "held", "Held (checkout in progress)"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        WAITLISTED = "waitlisted", "On the waitlist"
        OFFERED = "offered", "Offered a seat"
        TRANSFERRED = "transferred", "Transferred"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="registrations")
    attendee_first_name = models.CharField(max_length=80)
    attendee_last_name = models.CharField(max_length=80)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When a hold or a waitlist offer runs out."
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["course", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["held", "offered"]) | Q(expires_at__isnull=False),
                name="registration_hold_has_expiry",
            )
        ]

    def __str__(self):
        return f"Registration #{self.pk} ({self.get_status_display()})"


# The allowed status changes (ARCHITECTURE §3).
TRANSITIONS: dict[str, set[str]] = {
    Registration.Status.HELD: {Registration.Status.CONFIRMED, Registration.Status.EXPIRED, Registration.Status.CANCELLED},
    Registration.Status.WAITLISTED: {Registration.Status.OFFERED, Registration.Status.CANCELLED},
    Registration.Status.OFFERED: {Registration.Status.CONFIRMED, Registration.Status.EXPIRED, Registration.Status.CANCELLED},
    Registration.Status.CONFIRMED: {Registration.Status.CANCELLED, Registration.Status.TRANSFERRED},
    Registration.Status.CANCELLED: set(),
    Registration.Status.EXPIRED: set(),
    Registration.Status.TRANSFERRED: set(),
}
