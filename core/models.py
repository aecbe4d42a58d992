"""Base model and the site-wide options that staff edit in the back office."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from .memo import memo_key, memoized


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
    nonprofit_statement = models.TextField(
        "Non-profit statement",
        blank=True,
        help_text="Printed on donation receipts, e.g. \"The Library Foundation is a 501(c)(3) organization; "
        "no goods or services were provided in exchange for this gift.\"",
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
        """The one row (read once per request: ``core.memo``)."""
        return memoized(memo_key(cls), cls._load)

    @classmethod
    def _load(cls) -> "SiteOptions":
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class OutboxMessage(models.Model):
    """An e-mail waiting to be delivered, written in the same transaction as the change that
    causes it. ``dedupe_key`` is unique, so the same message can never be queued twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    dedupe_key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=80)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachments = models.JSONField(
        default=list, blank=True,
        help_text="[{filename, mimetype, cid?, sha256}]: the files, stored once in OutboxAttachment (rows queued "
        "before that carry content_b64, the bytes in base64, instead of sha256)")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name = "outbox message"

    def __str__(self):
        return f"{self.template} #{self.pk} ({self.get_status_display()})"


class OutboxAttachment(models.Model):
    """A file attached to outbox messages, stored once however many messages carry it (a venue's
    map in every reminder, a course's calendar file in every confirmation). Keyed by the SHA-256
    of its bytes; a message's ``attachments`` refer to it by that hash, with the file name, type
    and inline ``cid`` it has in that message. Rows are never changed; the same bytes always
    find the same row."""

    sha256 = models.CharField(max_length=64, unique=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "outbox attachment"

    def __str__(self):
        return f"{self.sha256[:12]} ({self.size} bytes)"
