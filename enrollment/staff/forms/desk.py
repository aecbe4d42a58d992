"""Forms of the front desk (``enrollment.staff.desk``): find a patron, register at the desk with
cash or a check, and take a further payment on an order.

Only the shape of the input is checked here (names, contact, amounts, the check number). Seats,
the cutoff, ages and duplicate attendees are the seat service's rules, and what is due is
finance's: they are checked again when the registration is placed, and the view puts their
messages on the row and field they name (:meth:`DeskRegistrationForm.attach_row_error`,
:meth:`DeskRegistrationForm.attach_payment_error`).

Forms import nothing of finance: the payment methods and the limits of a check number and payer
come from the view (``OfflineMethods``). The registration page works without JavaScript: a fixed
number of attendee rows (one per attendee: the class, the attendee's name, the age for kids' and
teen classes), with a button for more rows.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from classes import cutoff_words
from classes.models import Course
from classes.schedule import local

from ...forms import MoneyField, NameField, validate_phone, validate_plain_text
from ...models import ReferralSource, Registration

KIDS_AND_TEENS = (Course.Audience.KIDS, Course.Audience.TEENS)



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


class DeskCourses:
    """The classes the desk can pick from (open or running, current and upcoming semesters),
    read only as far as needed: a posted form looks up the classes its rows chose (one query for
    them, ``load(ids)``); the page reads every class (``load(None)``) only when it is shown, and
    renders their list once for all rows (``options_html``)."""

    def __init__(self, *, now: dt.datetime, load, wanted=()):
        self.now = now
        self._load = load
        self._wanted = {pk for pk in wanted if 0 < pk < 2**62}
        self._all: list[Course] | None = None
        self._some: dict[int, Course] | None = None

    @property
    def courses(self) -> list[Course]:
        if self._all is None:
            self._all = list(self._load(None))
        return self._all

    def get(self, pk: int) -> Course | None:
        """One of the classes offered, or None."""
        if self._all is not None:
            return self.by_id.get(pk)
        if self._some is None:
            self._some = {c.pk: c for c in self._load(self._wanted)} if self._wanted else {}
        if pk not in self._some and pk not in self._wanted:  # not posted: look in the whole list
            return self.by_id.get(pk)
        return self._some.get(pk)

    @cached_property
    def by_id(self) -> dict[int, Course]:
        return {c.pk: c for c in self.courses}

    @cached_property
    def choices(self) -> list[tuple[str, str]]:
        return [("", "Choose a class…")] + [(str(c.pk), course_label(c, now=self.now)) for c in self.courses]

    @cached_property
    def options_html(self) -> str:
        """Every row's ``<option>`` list, rendered once (``SharedOptionsSelect`` marks the row's choice)."""
        return "".join(format_html('<option value="{}">{}</option>', value, label) for value, label in self.choices)


class SharedOptionsSelect(forms.Select):
    """A ``<select>`` whose options are the page's one rendered list (``DeskCourses.options_html``):
    the same HTML as Django's Select, without rendering the list again for every row."""

    def __init__(self, attrs=None, *, courses: DeskCourses):
        super().__init__(attrs)
        self.courses = courses

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        options = self.courses.options_html
        chosen = "" if value is None else str(value)
        if chosen:
            mark = format_html('<option value="{}">', chosen)
            options = options.replace(mark, mark[:-1] + " selected>", 1)
        elif options.startswith('<option value="">'):
            options = '<option value="" selected>' + options[len('<option value="">'):]
        return mark_safe(f'<select name="{conditional_escape(name)}"{flatatt(final)}>{options}</select>')  # noqa: S308


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
        course_attrs = dict(self.fields["course"].widget.attrs, **{"class": "desk-course"})
        self.fields["course"].widget = SharedOptionsSelect(course_attrs, courses=courses)
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
        offered = self.courses.get(pk) if 0 < pk < 2**62 else None
        if offered is not None:
            return offered
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


@dataclass(frozen=True)
class OfflineMethods:
    """What the desk's payment fields offer, given by the view from finance: the values of the cash
    and check methods, and the longest check number and payer a payment takes."""

    cash: str
    check: str
    reference_max: int
    payer_max: int


class _PaymentFields(forms.Form):
    provider = forms.ChoiceField(
        label="Payment method", widget=forms.RadioSelect(attrs={"class": "radiolist inline"}),
        error_messages={"required": "Choose cash or check.", "invalid_choice": "Choose cash or check."},
    )

    def __init__(self, *args, methods: OfflineMethods, **kwargs):
        self.methods = methods
        super().__init__(*args, **kwargs)
        provider = self.fields["provider"]
        provider.choices = [(methods.cash, "Cash"), (methods.check, "Check")]
        provider.initial = methods.cash
        self.fields["reference"] = forms.CharField(
            label="Check number", max_length=methods.reference_max, required=False,
            validators=[validate_plain_text], widget=forms.TextInput(attrs={"autocomplete": "off", "size": 12}),
        )
        self.fields["payer"] = forms.CharField(
            label="Check written by", max_length=methods.payer_max, required=False,
            validators=[validate_plain_text], help_text="If not the patron.",
        )

    def needs_check_number(self, amount) -> bool:
        return amount is None or amount > 0

    def clean(self):
        data = super().clean()
        for name in ("reference", "payer"):
            data[name] = " ".join((data.get(name) or "").split())
        if data.get("provider") == self.methods.check and "amount" not in self.errors \
                and self.needs_check_number(data.get("amount")) and not data["reference"] \
                and "reference" not in self.errors:
            self.add_error("reference", "Enter the check number.")
        if data.get("provider") == self.methods.cash:
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
