"""The data of a semester's program. Rules on one row live in ``clean()`` and DB constraints;
rules across rows (room and instructor clashes) are checked by ``classes.selectors``."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.models import TimeStampedModel

from . import schedule

MONEY = {"max_digits": 10, "decimal_places": 2}


class Semester(TimeStampedModel):
    name = models.CharField(max_length=80, help_text="For example “Spring 2027”.")
    slug = models.SlugField(max_length=80, unique=True)
    starts_on = models.DateField("First day")
    ends_on = models.DateField("Last day")
    registration_opens_at = models.DateTimeField(help_text="When patrons can start registering.")
    cutoff_days = models.PositiveSmallIntegerField(
        "Week-out cutoff (days)",
        default=7,
        validators=[MaxValueValidator(60)],
        help_text="Registration for a course closes at local midnight this many days before its first meeting.",
    )
    is_published = models.BooleanField(
        "Published", default=False,
        help_text="Only published semesters appear in the public catalog. Publish once its classes are ready.",
    )

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="semester_ends_after_start"),
            models.CheckConstraint(condition=Q(cutoff_days__lte=60), name="semester_cutoff_days_sane"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The last day must be on or after the first day."})
        if self.registration_opens_at and self.ends_on and timezone.localtime(
            self.registration_opens_at
        ).date() > self.ends_on:
            raise ValidationError({"registration_opens_at": "Registration must open before the semester ends."})

    def contains(self, when: dt.datetime) -> bool:
        day = schedule.local(when).date()
        return self.starts_on <= day <= self.ends_on

    def registration_is_open(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.registration_opens_at <= now


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the catalog (lowest first).")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("classes:category", args=[self.slug])


class Venue(TimeStampedModel):
    class Kind(models.TextChoices):
        LIBRARY_ROOM = "library", "Library room"
        OUTSIDE = "outside", "Outside venue"

    class RoomFee(models.TextChoices):
        NONE = "none", "No room fee"
        PER_MEETING = "per_meeting", "Per meeting"
        PER_HOUR = "per_hour", "Per hour"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LIBRARY_ROOM)
    street_address = models.CharField(max_length=200)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=40, default="KS")
    postal_code = models.CharField("ZIP code", max_length=12)
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    accessibility_notes = models.TextField(blank=True)
    parking_notes = models.TextField(blank=True)
    room_fee_terms = models.CharField(max_length=12, choices=RoomFee.choices, default=RoomFee.NONE)
    room_fee_rate = models.DecimalField(
        "Room fee ($ per meeting or per hour)", default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))], **MONEY,
    )
    contact = models.CharField("Venue contact", max_length=200, blank=True, help_text="Staff only.")
    map_image = models.ImageField(
        upload_to="venues/maps/", blank=True,
        help_text="A map of the venue and its parking, embedded in reminders (no map service is called).",
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="venue_capacity_positive"),
            models.CheckConstraint(condition=Q(room_fee_rate__gte=0), name="venue_fee_not_negative"),
            models.CheckConstraint(
                condition=~Q(room_fee_terms="none") | Q(room_fee_rate=0), name="venue_no_rate_without_terms"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.room_fee_terms == self.RoomFee.NONE and self.room_fee_rate:
            errors["room_fee_rate"] = "Set the room-fee terms (per meeting or per hour), or leave the rate at 0."
        if self.room_fee_terms != self.RoomFee.NONE and not self.room_fee_rate:
            errors["room_fee_rate"] = "Enter the room fee charged per meeting or per hour."
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = "Enter both latitude and longitude, or neither."
        if errors:
            raise ValidationError(errors)

    @property
    def is_library_room(self) -> bool:
        return self.kind == self.Kind.LIBRARY_ROOM

    @property
    def full_address(self) -> str:
        return f"{self.street_address}, {self.city}, {self.state} {self.postal_code}".strip()

    @property
    def map_url(self) -> str:
        """A link to a map of the venue (OpenStreetMap: no tracking, no API key)."""
        from urllib.parse import quote_plus

        if self.latitude is not None and self.longitude is not None:
            return (
                f"https://www.openstreetmap.org/?mlat={self.latitude}&mlon={self.longitude}"
                f"#map=17/{self.latitude}/{self.longitude}"
            )
        return f"https://www.openstreetmap.org/search?query={quote_plus(self.full_address)}"

    @property
    def directions_url(self) -> str:
        from urllib.parse import quote_plus

        if self.latitude is not None and self.longitude is not None:
            return f"https://www.openstreetmap.org/directions?to={self.latitude}%2C{self.longitude}"
        return f"https://www.openstreetmap.org/directions?to={quote_plus(self.full_address)}"


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


class Course(TimeStampedModel):
    class Audience(models.TextChoices):
        ADULTS = "adults", "Adults"
        TEENS = "teens", "Teens"
        KIDS = "kids", "Kids"
        FAMILY = "family", "Families"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        RUNNING = "running", "Running"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    #: A course in these takes registrations until its cutoff (running: decided before the cutoff).
    TAKES_REGISTRATIONS = (Status.OPEN, Status.RUNNING)

    semester = models.ForeignKey(Semester, on_delete=models.PROTECT, related_name="courses")
    title = models.CharField(max_length=160)
    slug = models.SlugField(max_length=160)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="courses")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ADULTS)
    age_min = models.PositiveSmallIntegerField("Youngest age", null=True, blank=True, validators=[MaxValueValidator(120)])
    age_max = models.PositiveSmallIntegerField("Oldest age", null=True, blank=True, validators=[MaxValueValidator(120)])
    description = models.TextField()
    what_to_bring = models.TextField(blank=True)
    instructor = models.ForeignKey(Instructor, on_delete=models.PROTECT, related_name="courses")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="courses")
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    minimum = models.PositiveIntegerField("Minimum to run", validators=[MinValueValidator(1)])
    fee = models.DecimalField(validators=[MinValueValidator(Decimal("0"))], **MONEY)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Budget lines (instructor pay and room fee are derived from the meetings; see finance.pricing).
    staff_hours = models.DecimalField(
        "Staff time (hours)", max_digits=6, decimal_places=2, default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    materials_cost = models.DecimalField(default=Decimal("0.00"), validators=[MinValueValidator(Decimal("0"))], **MONEY)
    supplies_cost = models.DecimalField(default=Decimal("0.00"), validators=[MinValueValidator(Decimal("0"))], **MONEY)
    #: Goes up by one with each change patrons are told about (``classes.changes``): the SEQUENCE of
    #: the course's calendar events, so a calendar that imported them replaces them, and part of
    #: the dedupe key of the "your class changed" messages.
    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["semester", "slug"], name="course_slug_unique_in_semester"),
            models.CheckConstraint(condition=Q(minimum__lte=F("capacity")), name="course_minimum_le_capacity"),
            models.CheckConstraint(condition=Q(minimum__gte=1), name="course_minimum_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="course_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(staff_hours__gte=0) & Q(materials_cost__gte=0) & Q(supplies_cost__gte=0),
                name="course_costs_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(age_min__isnull=True) | Q(age_max__isnull=True) | Q(age_min__lte=F("age_max")),
                name="course_age_range_ordered",
            ),
        ]
        indexes = [models.Index(fields=["semester", "status"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("classes:course", args=[self.semester.slug, self.slug])

    def clean(self):
        errors = {}
        if self.minimum and self.capacity and self.minimum > self.capacity:
            errors["minimum"] = f"The minimum ({self.minimum}) cannot be above the capacity ({self.capacity})."
        if self.capacity and self.venue_id and self.capacity > self.venue.capacity:
            errors["capacity"] = f"{self.venue} holds at most {self.venue.capacity} people."
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            errors["age_max"] = "The oldest age must be at or above the youngest age."
        if errors:
            raise ValidationError(errors)

    # --- derived, read-only -------------------------------------------------------------------
    def ordered_meetings(self) -> list["Meeting"]:
        """Meetings by start time; uses prefetched meetings when the selector loaded them."""
        return sorted(self.meetings.all(), key=lambda m: m.starts_at)

    @property
    def first_start(self) -> dt.datetime | None:
        annotated = getattr(self, "first_meeting_start", None)
        if annotated is not None:
            return annotated
        meetings = self.ordered_meetings()
        return meetings[0].starts_at if meetings else None

    @property
    def registration_closes_at(self) -> dt.datetime | None:
        return schedule.cutoff_at(self.first_start, self.semester.cutoff_days)

    @property
    def last_day_to_register(self) -> dt.date | None:
        closes = self.registration_closes_at
        return None if closes is None else schedule.local(closes).date() - dt.timedelta(days=1)

    def is_past_cutoff(self, now: dt.datetime | None = None) -> bool:
        closes = self.registration_closes_at
        return closes is not None and (now or timezone.now()) >= closes

    def takes_registrations(self, now: dt.datetime | None = None) -> bool:
        """Open, or running (staff decided to run it before its cutoff), and before its cutoff; a
        course without meetings has no cutoff yet and takes none. (Whether its semester's
        registration has opened is the semester's ``registration_is_open``.)"""
        closes = self.registration_closes_at
        return self.status in self.TAKES_REGISTRATIONS and closes is not None and (now or timezone.now()) < closes

    @property
    def age_range_label(self) -> str:
        if self.age_min is not None and self.age_max is not None:
            return f"Ages {self.age_min}–{self.age_max}"
        if self.age_min is not None:
            return f"Ages {self.age_min} and up"
        if self.age_max is not None:
            return f"Ages {self.age_max} and under"
        return ""


class Meeting(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField("Starts")
    ends_at = models.DateTimeField("Ends")
    venue = models.ForeignKey(
        Venue, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings",
        help_text="Leave empty to meet at the course's venue.",
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="meeting_ends_after_start"),
        ]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]

    def __str__(self):
        start = schedule.local(self.starts_at)
        return f"{start:%a %b %-d, %Y %-I:%M %p}"

    @property
    def effective_venue(self) -> Venue:
        return self.venue or self.course.venue

    @property
    def hours(self) -> Decimal:
        return schedule.hours_between(self.starts_at, self.ends_at)

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})
        if self.starts_at and self.ends_at and self.ends_at - self.starts_at > dt.timedelta(hours=12):
            raise ValidationError({"ends_at": "A meeting cannot be longer than 12 hours."})
