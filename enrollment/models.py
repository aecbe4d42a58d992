"""Orders and registrations: who is buying, who attends, and the state of each seat.

Only the services in ``enrollment.services`` change a registration's status, following
``TRANSITIONS``, under a row lock on the course, with a ``RegistrationEvent`` audit row.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from classes.models import Course
from core.memo import memo_key, memoized
from core.models import TimeStampedModel

MONEY = {"max_digits": 10, "decimal_places": 2}


class EnrollmentOptions(models.Model):
    """Registration options staff change in the back office. One row: ``EnrollmentOptions.current()``."""

    hold_minutes = models.PositiveSmallIntegerField(
        "Seat hold (minutes)", default=15, validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="How long seats are held for a patron while they check out.",
    )
    offer_hours = models.PositiveSmallIntegerField(
        "Waitlist offer (hours)", default=48, validators=[MinValueValidator(1), MaxValueValidator(336)],
        help_text="How long a patron offered a seat from the waitlist has to claim it.",
    )
    nudge_days = models.PositiveSmallIntegerField(
        "Low-enrollment nudge (days before the cutoff)", default=3, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="A course still below its minimum this many days before its cutoff asks its registrants to help.",
    )
    link_days = models.PositiveSmallIntegerField(
        "“My registrations” link valid (days)", default=180, validators=[MinValueValidator(1), MaxValueValidator(730)],
    )
    scholarship_limit = models.PositiveSmallIntegerField(
        "Scholarships per attendee per semester", default=2, validators=[MaxValueValidator(20)],
        help_text="How many classes one attendee can take with a Pass the Buck scholarship in a semester "
                  "(0: patrons cannot ask online; staff can still grant one at the desk).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "registration options"

    def __str__(self):
        return "Registration options"

    @classmethod
    def current(cls) -> "EnrollmentOptions":
        """The one row (read once per request: ``core.memo``)."""
        return memoized(memo_key(cls), cls._load)

    @classmethod
    def _load(cls) -> "EnrollmentOptions":
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class ReferralSource(models.Model):
    """A "How did you hear about us?" answer that staff manage."""

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Order(TimeStampedModel):
    """One checkout: a buyer registering one or more attendees in one or more courses."""

    class Channel(models.TextChoices):
        ONLINE = "online", "Online"
        DESK = "desk", "Front desk"

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    city_state_zip = models.CharField("City, state and ZIP", max_length=120, blank=True)
    mail_catalog = models.BooleanField("Mail me the printed catalog", default=False)
    referral = models.ForeignKey(
        ReferralSource, on_delete=models.SET_NULL, null=True, blank=True, verbose_name="How they heard about us"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    gift_amount = models.DecimalField(
        "Gift to Pass the Buck", default=0, **MONEY, editable=False,
        help_text="Added at checkout; charged with the seats and booked as a donation when paid.",
    )
    gift_anonymous = models.BooleanField("Keep the gift anonymous", default=False, editable=False)
    checkout_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False,
        help_text="The one-time key of the checkout form that placed this order (no order is placed twice).",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email"])]
        constraints = [models.CheckConstraint(condition=Q(gift_amount__gte=0), name="order_gift_not_negative")]

    def __str__(self):
        return f"Order {self.reference}"

    @property
    def reference(self) -> str:
        """A short reference for receipts and the phone ("C-000123")."""
        return f"C-{self.pk:06d}" if self.pk else "C-new"

    @property
    def buyer_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Registration(TimeStampedModel):
    class Status(models.TextChoices):
        HELD = "held", "Held (checkout in progress)"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        WAITLISTED = "waitlisted", "On the waitlist"
        OFFERED = "offered", "Offered a seat"
        TRANSFERRED = "transferred", "Transferred"

    class Relationship(models.TextChoices):
        SELF = "self", "Myself"
        FAMILY = "family", "A family member"
        GIFT = "gift", "A friend (gift)"

    ACTIVE = [Status.HELD, Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED]

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="registrations")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="registrations")
    attendee_first_name = models.CharField(max_length=80)
    attendee_last_name = models.CharField(max_length=80)
    attendee_age = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(120)])
    relationship = models.CharField(max_length=8, choices=Relationship.choices, default=Relationship.SELF)
    attendee_key = models.CharField(max_length=200, editable=False, help_text="Normalized attendee identity.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When a hold or a waitlist offer runs out.")
    price = models.DecimalField(default=0, **MONEY, help_text="What this seat costs, fixed when it was taken.")
    scholarship_requested = models.BooleanField(
        default=False, editable=False,
        help_text="The attendee asked for a Pass the Buck scholarship (seen only by coordinators and finance).",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    transferred_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="transferred_to", editable=False,
    )
    # Pass the Buck's part of this seat, stored here so that enrollment never reads finance's ledger.
    fund_paid = models.DecimalField(
        default=0, **MONEY, editable=False,
        help_text="Pass the Buck's share of this seat: what the fund's award paid of it. Written only by "
                  "finance's fund services (a transfer carries it to the new registration, with the seat).",
    )
    fund_returned = models.DecimalField(
        default=0, **MONEY, editable=False,
        help_text="What of the fund's award went back to the fund (the seat was cancelled or ran out). Written "
                  "only by finance's fund services (a transfer carries it to the new registration).",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["course", "status"]), models.Index(fields=["status", "expires_at"])]
        permissions = [
            ("desk_register", "Can register patrons at the front desk"),
            ("override_rules", "Can register after the cutoff or over capacity, with a reason"),
            ("transfer_registration", "Can transfer a registration to another class"),
            ("view_roster", "Can see and print class rosters"),
            ("take_attendance", "Can take attendance"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["held", "offered"]) | Q(expires_at__isnull=False),
                name="registration_hold_has_expiry",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="registration_price_not_negative"),
            models.CheckConstraint(condition=Q(fund_paid__gte=0), name="registration_fund_paid_not_negative"),
            models.CheckConstraint(condition=Q(fund_returned__gte=0), name="registration_fund_returned_not_negative"),
            models.UniqueConstraint(
                fields=["course", "attendee_key"],
                condition=Q(status__in=["held", "confirmed", "waitlisted", "offered"]),
                name="registration_one_active_per_attendee",
            ),
        ]

    def __str__(self):
        return f"Registration #{self.pk} ({self.get_status_display()})"

    @property
    def attendee_name(self) -> str:
        return f"{self.attendee_first_name} {self.attendee_last_name}".strip()

    @property
    def patron_price(self) -> Decimal:
        """The patron's own share of this seat: the price less the fund's award (an award given back
        later does not change what the patron's own share was)."""
        return self.price - self.fund_paid

    def is_live(self, now=None) -> bool:
        """Confirmed, or a hold/offer that has not run out."""
        now = now or timezone.now()
        if self.status == self.Status.CONFIRMED:
            return True
        return self.status in (self.Status.HELD, self.Status.OFFERED) and self.expires_at > now


class RegistrationEvent(models.Model):
    """The audit trail: every status change of a registration, who made it and why; a name
    corrected in the back office is a row too (the status unchanged, the names in ``reason``)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=80, help_text="patron, system, or the staff member")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


S = Registration.Status
# The allowed status changes (ARCHITECTURE §3). "" is a new row.
TRANSITIONS: dict[str, set[str]] = {
    "": {S.HELD, S.WAITLISTED, S.CONFIRMED},
    S.HELD: {S.CONFIRMED, S.EXPIRED, S.CANCELLED},
    S.WAITLISTED: {S.OFFERED, S.CANCELLED},
    S.OFFERED: {S.CONFIRMED, S.EXPIRED, S.CANCELLED},
    S.CONFIRMED: {S.CANCELLED, S.TRANSFERRED},
    S.EXPIRED: {S.CONFIRMED},  # a payment that lands after the hold ran out, while a seat is free
    S.CANCELLED: set(),
    S.TRANSFERRED: set(),
}


class Attendance(models.Model):
    """Whether an attendee came to one meeting, as marked by staff (or later the instructor)."""

    meeting = models.ForeignKey("classes.Meeting", on_delete=models.CASCADE, related_name="attendance")
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="attendance")
    present = models.BooleanField()
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting__starts_at", "registration_id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "registration"], name="attendance_once_per_meeting"),
        ]
        verbose_name_plural = "attendance"

    def __str__(self):
        return f"{'Present' if self.present else 'Absent'} #{self.registration_id} @ meeting {self.meeting_id}"


class CourseDecision(models.Model):
    """The week-out decision of a course: it runs or it is cancelled. One per course, ever —
    the unique course makes a second decision (two runs at once, a retry) impossible."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Runs"
        CANCELLED = "cancelled", "Cancelled"

    course = models.OneToOneField(Course, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    decided_at = models.DateTimeField()
    confirmed_count = models.PositiveIntegerField()
    minimum = models.PositiveIntegerField()
    automatic = models.BooleanField(default=True, help_text="Made by the week-out run (not by staff).")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    #: The follow-up work (messages, refunds, closing holds and the waitlist) is done and checked.
    #: Empty while a class staff decided to run before its cutoff still takes registrations: the
    #: week-out run does that work at the cutoff.
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self):
        return f"{self.course}: {self.get_outcome_display()}"


class CallListEntry(TimeStampedModel):
    """A registrant without e-mail who must be phoned about a decided or changed course."""

    class Topic(models.TextChoices):
        REMINDER = "reminder", "Reminder: the class runs"
        CANCELLATION = "cancellation", "The class is cancelled"
        NUDGE = "nudge", "The class needs more people to run"
        CHANGE = "change", "The class changed"

    class Outcome(models.TextChoices):
        NOT_CALLED = "", "Not called yet"
        SPOKE = "spoke", "Spoke with them"
        MESSAGE = "message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="calls")
    topic = models.CharField(max_length=12, choices=Topic.choices)
    script = models.TextField(help_text="What to tell them.")
    called_at = models.DateTimeField(null=True, blank=True)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True, default="")
    notes = models.CharField(max_length=300, blank=True)
    #: For a change to the class (topic ``change``): the course's revision it is about, so each
    #: change is one call; 0 for the other topics (one call each, ever).
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["called_at", "created_at"]
        verbose_name = "call list entry"
        verbose_name_plural = "call list"
        constraints = [
            models.UniqueConstraint(fields=["registration", "topic", "revision"], name="call_once_per_topic"),
        ]

    def __str__(self):
        return f"Call about #{self.registration_id} ({self.get_topic_display()})"


class ScholarshipWait(TimeStampedModel):
    """The scholarship waitlist: an attendee who asked for a Pass the Buck scholarship when the
    fund could not cover half the fee. As donations arrive, the oldest waiting request whose half
    the fund can now pay is offered: a seat is held for them with the award made
    (``finance.services.scholarship_offers.scholarship_waits_offer``) and they are e-mailed a link to pay
    their half. Seen only by coordinators and finance."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for the fund"
        OFFERED = "offered", "Offered (seat held with the scholarship)"
        CLOSED = "closed", "Closed (the class closed, filled or was withdrawn)"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="scholarship_waits")
    first_name = models.CharField("Buyer's first name", max_length=80)
    last_name = models.CharField("Buyer's last name", max_length=80)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    referral = models.ForeignKey(ReferralSource, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    attendee_first_name = models.CharField(max_length=80)
    attendee_last_name = models.CharField(max_length=80)
    attendee_age = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(120)])
    relationship = models.CharField(max_length=8, choices=Registration.Relationship.choices,
                                    default=Registration.Relationship.SELF)
    attendee_key = models.CharField(max_length=200, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              help_text="The order holding the seat when the request was offered.")
    closed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "scholarship waitlist entry"
        verbose_name_plural = "scholarship waitlist"
        constraints = [
            models.UniqueConstraint(fields=["course", "attendee_key"], condition=Q(status__in=["waiting", "offered"]),
                                    name="scholarshipwait_one_per_attendee"),
        ]

    def __str__(self):
        return f"Scholarship waitlist #{self.pk} ({self.get_status_display()})"
