"""Forms of the front desk (``enrollment.desk``): find a patron, register at the desk with cash
or a check, and take a further payment on an order.

Only the shape of the input is checked here (names, contact, amounts, the check number). Seats,
the cutoff, ages and duplicate attendees are the seat service's rules, and what is due is
finance's: they are checked again when the registration is placed, and their messages are put on
the row and field they name (:meth:`DeskRegistrationForm.attach_enrollment_error`,
:meth:`DeskRegistrationForm.attach_payment_error`).

These forms serve the desk's views only (an entry point), so they may read finance's limits and
payment methods. The registration page works without JavaScript: a fixed number of attendee rows (one per
attendee: the class, the attendee's name, the age for kids' and teen classes), with a button
for more rows.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from classes import cutoff_words
from classes.models import Course
from classes.schedule import local
from finance.models import Payment
from finance.services.offline import PAYER_MAX, REFERENCE_MAX, OfflinePaymentInvalid

from .forms import MoneyField, NameField, unbound_copy, validate_phone, validate_plain_text
from .models import ReferralSource, Registration
from .services.errors import CourseFull, CourseNotOpen, EnrollmentError, RegistrationClosed

ROWS = 4
MAX_ROWS = 24
MORE_ROWS = 4
KIDS_AND_TEENS = (Course.Audience.KIDS, Course.Audience.TEENS)
_NONCE = re.compile(r"^[0-9a-f]{32}$")



# --- find a patron -------------------------------------------------------------------------

class PatronSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, e-mail or phone", min_length=2, max_length=100, validators=[validate_plain_text],
        error_messages={"min_length": "Enter at least 2 characters.", "required": "Enter a name, e-mail or phone."},
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "autocomplete": "off"}),
    )


# --- register ------------------------------------------------------------------------------

class DeskBuyerForm(forms.Form):
    """The patron: a name, and an e-mail address or (for patrons without e-mail) a phone number."""

    first_name = NameField(label="First name")
    last_name = NameField(label="Last name")
    email = forms.EmailField(
        label="E-mail", max_length=254, required=False,
        help_text="Optional. The confirmation and receipt go here; without it the patron is on the call list.",
    )
    phone = forms.CharField(
        label="Phone", max_length=40, required=False, validators=[validate_phone],
        help_text="Required when the patron has no e-mail.", widget=forms.TextInput(attrs={"type": "tel"}),
    )
    street_address = forms.CharField(label="Street address", max_length=200, required=False,
                                     validators=[validate_plain_text])
    city_state_zip = forms.CharField(label="City, state and ZIP", max_length=120, required=False,
                                     validators=[validate_plain_text])
    mail_catalog = forms.BooleanField(label="Mail the printed catalog", required=False)
    referral = forms.ModelChoiceField(
        label="How they heard about us", queryset=ReferralSource.objects.none(), required=False,
        empty_label="(not asked)", error_messages={"invalid_choice": "Choose one of the answers in the list."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral"].queryset = ReferralSource.objects.filter(active=True)

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone") and "email" not in self.errors \
                and "phone" not in self.errors:
            self.add_error("phone", "Enter a phone number: the patron has no e-mail address.")
        if data.get("mail_catalog"):
            if not data.get("street_address") and "street_address" not in self.errors:
                self.add_error("street_address", "Enter the street address to mail the catalog to.")
            if not data.get("city_state_zip") and "city_state_zip" not in self.errors:
                self.add_error("city_state_zip", "Enter the city, state and ZIP to mail the catalog to.")
        return data


def course_label(course: Course, *, now) -> str:
    """A class as staff pick it: title, semester, first meeting, fee, seats left, and why it
    would need an override."""
    parts = [course.title, course.semester.name]
    first = course.first_start
    if first is not None:
        parts.append(f"{local(first):%a %b %-d}")
    parts.append(f"${course.fee:,.2f}" if course.fee else "free")
    left = getattr(course, "seats_left", None)
    if left is not None:
        parts.append("full" if left <= 0 else f"{left} of {course.capacity} seats left")
    if course.status == Course.Status.RUNNING:
        parts.append("running")  # decided to run; before its cutoff it still takes registrations
    if course.is_past_cutoff(now):
        parts.append("registration closed")
    elif course.last_day_to_register:
        parts.append(cutoff_words.register_by(course))
    elif not course.semester.registration_is_open(now):
        parts.append("registration not open yet")
    return " · ".join(parts)


@dataclass
class DeskCourses:
    """The classes the desk can pick from (open or running, current and upcoming semesters)."""

    courses: list[Course]
    now: dt.datetime

    def __post_init__(self):
        self.by_id = {c.pk: c for c in self.courses}
        self.choices = [("", "Choose a class…")] + [(str(c.pk), course_label(c, now=self.now)) for c in self.courses]


class AttendeeRowForm(forms.Form):
    """One attendee in one class. An empty row is skipped."""

    course = forms.CharField(label="Class", required=False, widget=forms.Select)
    first_name = NameField(label="First name", required=False)
    last_name = NameField(label="Last name", required=False)
    age = forms.IntegerField(
        label="Age", min_value=0, max_value=120, required=False,
        help_text="Kids' and teen classes only.",
        error_messages={"invalid": "Enter the age as a whole number."},
    )
    relationship = forms.ChoiceField(
        label="Attendee is", choices=Registration.Relationship.choices, initial=Registration.Relationship.SELF,
        required=False, error_messages={"invalid_choice": "Choose the patron, a family member, or a friend (gift)."},
    )

    scholarship = forms.BooleanField(
        label="Pass the Buck scholarship", required=False,
        help_text="The fund pays half the fee; the patron pays the other half.",
    )

    def __init__(self, *args, courses: DeskCourses, can_grant: bool = False, **kwargs):
        self.courses = courses
        super().__init__(*args, **kwargs)
        if not can_grant:
            del self.fields["scholarship"]
        # The rows are a table under column headers, with no <label>s: each control is named for its
        # row ("Row 2 first name") so a screen reader says which attendee it belongs to.
        row = self.row_number
        for name, form_field in self.fields.items():
            what = ("Pass the Buck scholarship (the fund pays half)" if name == "scholarship"
                    else form_field.label.lower())
            form_field.widget.attrs["aria-label"] = f"Row {row} {what}" if row else what
        self.fields["course"].widget.choices = courses.choices
        self.fields["course"].widget.attrs["class"] = "desk-course"
        self.fields["age"].widget.attrs["inputmode"] = "numeric"
        self.fields["relationship"].choices = [
            (Registration.Relationship.SELF, "The patron"), (Registration.Relationship.FAMILY, "Family"),
            (Registration.Relationship.GIFT, "A friend (gift)"),
        ]

    @property
    def row_number(self) -> int | None:
        """The row's number as shown in its "#" column (prefix ``row0`` is row 1)."""
        digits = (self.prefix or "").removeprefix("row")
        return int(digits) + 1 if digits.isdigit() else None

    @property
    def is_blank(self) -> bool:
        if not self.is_bound:
            return True
        names = ("course", "first_name", "last_name", "age")
        return not any((self.data.get(self.add_prefix(n)) or "").strip() for n in names)

    def clean_course(self):
        raw = (self.cleaned_data.get("course") or "").strip()
        if not raw:
            return None
        try:
            pk = int(raw)
        except ValueError:
            raise ValidationError("Choose a class from the list.") from None
        if pk in self.courses.by_id:
            return self.courses.by_id[pk]
        course = Course.objects.filter(pk=pk).select_related("semester").first() if 0 < pk < 2**62 else None
        if course is None:
            raise ValidationError("Choose a class from the list.")
        if course.status == Course.Status.CANCELLED:
            raise ValidationError(f"“{course.title}” has been cancelled.")
        raise ValidationError(f"“{course.title}” is {course.get_status_display().lower()}: it can’t be registered for.")

    def clean(self):
        data = super().clean()
        if self.is_blank:
            return data
        if "course" not in self.errors and data.get("course") is None:
            self.add_error("course", "Choose a class.")
        for name, label in (("first_name", "first name"), ("last_name", "last name")):
            if name not in self.errors and not data.get(name):
                self.add_error(name, f"Enter the attendee’s {label}.")
        if not data.get("relationship"):
            data["relationship"] = Registration.Relationship.SELF
        course = data.get("course")
        if course is not None and "age" not in self.errors:
            if course.audience in KIDS_AND_TEENS:
                if data.get("age") is None:
                    label = course.age_range_label
                    self.add_error("age", "Enter the attendee’s age" + (f" ({label.lower()})." if label else "."))
            else:
                data["age"] = None  # asked only for kids' and teen classes
        return data


class OverrideForm(forms.Form):
    """Only for staff allowed to override (``enrollment.override_rules``)."""

    override = forms.BooleanField(
        label="Override the cutoff and capacity", required=False,
        help_text="Register even though registration has closed or the class is full.",
    )
    reason = forms.CharField(
        label="Reason for the override", max_length=250, required=False, validators=[validate_plain_text],
        help_text="Required with an override; it is kept in each registration's history.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def clean(self):
        data = super().clean()
        data["reason"] = " ".join((data.get("reason") or "").split())
        if data.get("override") and not data["reason"] and "reason" not in self.errors:
            self.add_error("reason", "Give the reason for the override.")
        return data

    @property
    def override_reason(self) -> str:
        return self.cleaned_data["reason"] if self.cleaned_data.get("override") else ""


class _PaymentFields(forms.Form):
    provider = forms.ChoiceField(
        label="Payment method", choices=[(Payment.Provider.CASH, "Cash"), (Payment.Provider.CHECK, "Check")],
        initial=Payment.Provider.CASH, widget=forms.RadioSelect(attrs={"class": "radiolist inline"}),
        error_messages={"required": "Choose cash or check.", "invalid_choice": "Choose cash or check."},
    )
    reference = forms.CharField(
        label="Check number", max_length=REFERENCE_MAX, required=False, validators=[validate_plain_text],
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 12}),
    )
    payer = forms.CharField(
        label="Check written by", max_length=PAYER_MAX, required=False, validators=[validate_plain_text],
        help_text="If not the patron.",
    )

    def needs_check_number(self, amount) -> bool:
        return amount is None or amount > 0

    def clean(self):
        data = super().clean()
        for name in ("reference", "payer"):
            data[name] = " ".join((data.get(name) or "").split())
        if data.get("provider") == Payment.Provider.CHECK and "amount" not in self.errors \
                and self.needs_check_number(data.get("amount")) and not data["reference"] \
                and "reference" not in self.errors:
            self.add_error("reference", "Enter the check number.")
        if data.get("provider") == Payment.Provider.CASH:
            data["payer"] = ""  # who wrote the check: not for cash
        return data


class DeskPaymentForm(_PaymentFields):
    """The money taken with a desk registration: blank means the whole total, 0 nothing yet."""

    amount = MoneyField(
        label="Amount taken", required=False, allow_zero=True,
        help_text="Leave empty to take the whole total. Enter less for a partial payment, or 0 to take "
                  "nothing now: the rest stays as balance due.",
    )
    field_order = ["provider", "amount", "reference", "payer"]


class OrderPaymentForm(_PaymentFields):
    """A further payment on an order with a balance due."""

    amount = MoneyField(label="Amount taken")
    field_order = ["provider", "amount", "reference", "payer"]


# --- the registration page's forms together ----------------------------------------------

@dataclass
class DeskRegistrationForm:
    """The patron, the attendee rows, the override (when allowed) and the payment (when the user
    may take money; otherwise nothing is taken and the total stays as balance due).

    ``rebuild=True`` re-renders a post with more rows, without validating it.
    """

    data: dict | None
    courses: DeskCourses
    can_override: bool
    can_take_money: bool
    initial_buyer: dict | None = None
    #: Staff allowed to grant a Pass the Buck scholarship (``finance.grant_scholarship``) see its column.
    can_grant: bool = False
    rebuild: bool = False
    buyer: DeskBuyerForm = field(init=False)
    rows: list[AttendeeRowForm] = field(init=False)
    override: OverrideForm | None = field(init=False)
    payment: DeskPaymentForm | None = field(init=False)
    non_field_errors: list[str] = field(init=False, default_factory=list)
    nonce: str = field(init=False)

    def __post_init__(self):
        data = self.data
        posted_nonce = (data or {}).get("nonce", "")
        self.nonce = posted_nonce if _NONCE.match(posted_nonce or "") else uuid.uuid4().hex
        count = ROWS
        if data is not None:
            try:
                count = int(data.get("rows", ROWS))
            except (TypeError, ValueError):
                count = ROWS
            if self.rebuild:
                count += MORE_ROWS
            count = min(max(count, 1), MAX_ROWS)

        def make(form_class, prefix, **kwargs):
            if data is None:
                return form_class(prefix=prefix, **kwargs)
            if self.rebuild:
                return unbound_copy(form_class, data, prefix=prefix, initial=kwargs.pop("initial", None), **kwargs)
            kwargs.pop("initial", None)
            return form_class(data, prefix=prefix, **kwargs)

        self.buyer = make(DeskBuyerForm, "buyer", initial=self.initial_buyer)
        self.rows = [make(AttendeeRowForm, f"row{i}", courses=self.courses, can_grant=self.can_grant,
                          initial={"relationship": Registration.Relationship.SELF if i == 0
                                   else Registration.Relationship.FAMILY})
                     for i in range(count)]
        self.override = make(OverrideForm, "override") if self.can_override else None
        self.payment = make(DeskPaymentForm, "pay") if self.can_take_money else None

    def _forms(self):
        yield self.buyer
        yield from self.rows
        if self.override is not None:
            yield self.override
        if self.payment is not None:
            yield self.payment

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self._forms()])  # a list: every form shows its errors
        if not any(not row.is_blank for row in self.rows):
            self.add_error("Add at least one attendee: choose a class and enter the attendee’s name.")
        return valid and not self.non_field_errors

    def add_error(self, message: str) -> None:
        if message not in self.non_field_errors:
            self.non_field_errors.append(message)

    # --- what the services need ------------------------------------------------------------
    def filled_rows(self) -> list[AttendeeRowForm]:
        """The rows with an attendee, in the order given to the seat service (its ``index``)."""
        return [row for row in self.rows if not row.is_blank]

    @property
    def override_reason(self) -> str:
        return self.override.override_reason if self.override is not None else ""

    @property
    def amount(self) -> Decimal | None:
        """None: the whole total. Staff who may not take money take nothing (0)."""
        if self.payment is None:
            return Decimal("0.00")
        return self.payment.cleaned_data.get("amount")

    def payment_data(self) -> dict:
        if self.payment is None:
            return {"provider": Payment.Provider.CASH, "reference": "", "payer": ""}
        data = self.payment.cleaned_data
        return {"provider": data["provider"], "reference": data["reference"], "payer": data["payer"]}

    def attach_enrollment_error(self, exc: EnrollmentError) -> None:
        """The seat service's message on the row and field it names (the class when it concerns the
        class), with a pointer to the override where one would let it through."""
        message = exc.message
        overridable = isinstance(exc, CourseFull | RegistrationClosed) or (
            isinstance(exc, CourseNotOpen) and "cancelled" not in message and "not in the catalog" not in message
        )
        if isinstance(exc, CourseFull):
            message = message.replace(" You can join its waitlist.", "")
        if overridable and not self.override_reason:
            if self.can_override:
                message += " To register anyway, tick “Override” and give a reason."
            else:
                message += " Only staff allowed to override can register for it now."
        rows = self.filled_rows()
        if exc.index is None or not 0 <= exc.index < len(rows):
            self.add_error(message)
            return
        row = rows[exc.index]
        name = exc.field if exc.field in ("first_name", "last_name", "age") else "course"
        if exc.field == "scholarship" and "scholarship" in row.fields:
            name = "scholarship"
        row.add_error(name, message)

    def attach_payment_error(self, exc) -> None:
        name = getattr(exc, "field", None)
        if self.payment is not None and isinstance(exc, OfflinePaymentInvalid) and name in self.payment.fields:
            self.payment.add_error(name, exc.message)
        else:
            self.add_error(exc.message)

    # --- the error summary at the top of the page --------------------------------------------
    def error_summary(self) -> list[tuple[str, str]]:
        """(text, link) of every error, for the summary at the top of the page."""
        items = [(message, "") for message in self.non_field_errors]
        items += form_errors(self.buyer, context="Patron")
        for n, row in enumerate(self.rows, start=1):
            items += form_errors(row, context=f"Attendee row {n}")
        if self.override is not None:
            items += form_errors(self.override, context="Override")
        if self.payment is not None:
            items += form_errors(self.payment, context="Payment")
        return items

    @property
    def row_count(self) -> int:
        return len(self.rows)


def form_errors(form: forms.Form, *, context: str) -> list[tuple[str, str]]:
    if not form.is_bound:
        return []
    items = []
    for name, errors in form.errors.items():
        for error in errors:
            if name == NON_FIELD_ERRORS:
                items.append((f"{context}: {error}", ""))
            else:
                bound = form[name]
                items.append((f"{context}, {bound.label.lower()}: {error}", f"#{bound.auto_id}"))
    return items
