"""Forms of the patron pages: the cart buttons, checkout (buyer and attendees) and the
"My registrations" link request.

Only the shape of the input is checked here (names, e-mail, phone, the attendee count, that the
hidden fields still match the cart). Seats, the age range, duplicates and whether registration is
open are the seat service's rules: it checks them again when the order is placed, and
:meth:`CheckoutForm.attach_error` puts its message on the attendee and field it names.

Checkout is one page that works without JavaScript: each class in the cart has an "attendees for
this class" count, and changing it re-renders the page with that many attendee forms.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from classes.models import Course
from core.money import MAX_AMOUNT

from .checkout_total import patron_half
from .models import ReferralSource, Registration
from .services.errors import CourseFull, EnrollmentError

MAX_ATTENDEES = 6
NAME_MAX = 80

AMOUNT_INVALID = "Enter the amount in dollars and cents, like 25 or 25.50."

# --- validators ----------------------------------------------------------------------------

_NAME_PUNCTUATION = set(" -'.\u2019\u2010")  # space, hyphen, apostrophes (' ’), period, ‐
_JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiner: part of how Persian and Indic names are spelled


def validate_person_name(value: str) -> None:
    """Letters of any script, with spaces, hyphens, apostrophes and periods between them.
    No digits, symbols, markup or control characters."""
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        raise ValidationError("Enter a name with at least one letter.", code="no_letters")
    for ch in value:
        category = unicodedata.category(ch)
        if category[0] in "LM" or ch in _NAME_PUNCTUATION or ch in _JOINERS:
            continue
        if category[0] == "C" or ch in "<>&\"":
            raise ValidationError(
                "Names can’t contain markup or hidden control characters. "
                "Use letters, spaces, hyphens, apostrophes and periods.",
                code="forbidden_character",
            )
        raise ValidationError(
            "Use letters, spaces, hyphens (-), apostrophes (’) and periods only.", code="invalid_character"
        )


def validate_plain_text(value: str) -> None:
    """Free text (an address): no markup and no control characters."""
    for ch in value:
        if unicodedata.category(ch)[0] == "C" or ch in "<>":
            raise ValidationError("Remove the “<”, “>” or hidden control characters.", code="forbidden_character")


_PHONE_SHAPE = re.compile(r"^\+?[0-9 ().\-]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)


def validate_phone(value: str) -> None:
    main = re.split(r"(?i)\s*(?:x|ext\.?)\s*(?=[0-9])", value, maxsplit=1)[0]
    digits = sum(ch.isdigit() for ch in main)
    if not _PHONE_SHAPE.match(value) or not 7 <= digits <= 15:
        raise ValidationError("Enter a phone number with its area code, like 785-555-0100.", code="invalid_phone")


class NameField(forms.CharField):
    """A person's name: trimmed, spaces collapsed, Unicode-normalized (NFC), at most 80 characters."""

    def __init__(self, *, autocomplete: str = "", **kwargs):
        kwargs.setdefault("max_length", NAME_MAX)
        kwargs.setdefault("error_messages", {"required": f"Enter the {kwargs.get('label', 'name').lower()}."})
        kwargs.setdefault("validators", [validate_person_name])
        super().__init__(**kwargs)
        # validate_person_name already refuses NUL (with every other control character).
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        if autocomplete:
            self.widget.attrs["autocomplete"] = autocomplete

    def to_python(self, value):
        value = super().to_python(value)
        return unicodedata.normalize("NFC", " ".join(value.split())) if value else value


class MoneyField(forms.DecimalField):
    """Dollars and cents as people type them ("25", "25.50", "$1,025.50"): at most two decimals,
    never negative, zero only when ``allow_zero``, at most ``max_value`` (``MAX_AMOUNT``); no
    exponents ("1e3" is not an amount anyone means). Messages by code (``invalid``,
    ``max_decimal_places``, ``max_value``, ``negative``, ``zero``…) can be given per field."""

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        messages = {
            "invalid": AMOUNT_INVALID,
            "max_decimal_places": "Enter the amount with at most 2 decimals (dollars and cents).",
            "max_digits": "That amount is too large. Check it and enter it again.",
            "max_whole_digits": "That amount is too large. Check it and enter it again.",
            "max_value": "That amount is too large. Check it and enter it again.",
            "required": "Enter the amount taken.",
            "negative": "The amount cannot be negative.",
            "zero": "Enter an amount greater than zero.",
        }
        kwargs["error_messages"] = messages | kwargs.get("error_messages", {})
        kwargs.setdefault("max_value", MAX_AMOUNT)
        # A text box: the browser must not refuse "$25" or round anything; the server decides.
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 10}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace(" ", "")
            if value.startswith("$"):
                value = value[1:]
            if len(value) > 40 or "e" in value.lower():  # a typing accident, a probe, an exponent
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return super().to_python(value)
        except (InvalidOperation, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < 0:
            raise ValidationError(self.error_messages["negative"], code="negative")
        if value == 0 and not self.allow_zero:
            raise ValidationError(self.error_messages["zero"], code="zero")


# --- the cart buttons ----------------------------------------------------------------------

class CourseChoiceForm(forms.Form):
    """The hidden course id of an "add to cart" or "remove" button."""

    course = forms.IntegerField(
        min_value=1, max_value=2**62, widget=forms.HiddenInput,
        error_messages={"required": "Choose a class.", "invalid": "That class is not in the catalog.",
                        "min_value": "That class is not in the catalog.", "max_value": "That class is not in the catalog."},
    )

    def error_text(self) -> str:
        return " ".join(str(e) for errors in self.errors.values() for e in errors)


# --- checkout ------------------------------------------------------------------------------

class BuyerForm(forms.Form):
    """Who is paying and how to reach them, and "How did you hear about us?" (asked once)."""

    first_name = NameField(label="First name", autocomplete="given-name")
    last_name = NameField(label="Last name", autocomplete="family-name")
    email = forms.EmailField(
        label="E-mail", max_length=254, help_text="Your confirmation, receipt and reminders come here.",
        error_messages={"required": "Enter your e-mail address."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Phone", max_length=40, validators=[validate_phone],
        error_messages={"required": "Enter a phone number with its area code."},
        help_text="In case we need to reach you about a class (a cancellation or a room change).",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    street_address = forms.CharField(
        label="Street address", max_length=200, required=False, validators=[validate_plain_text],
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    city_state_zip = forms.CharField(
        label="City, state and ZIP", max_length=120, required=False, validators=[validate_plain_text],
    )
    mail_catalog = forms.BooleanField(
        label="Mail me the printed catalog", required=False,
        help_text="We mail it each semester to the address above.",
    )
    referral = forms.ModelChoiceField(
        label="How did you hear about us?", queryset=ReferralSource.objects.none(), empty_label="Choose one",
        error_messages={"required": "Tell us how you heard about our classes.",
                        "invalid_choice": "Choose one of the answers in the list."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral"].queryset = ReferralSource.objects.filter(active=True)

    def clean(self):
        data = super().clean()
        if data.get("mail_catalog"):
            if not data.get("street_address") and "street_address" not in self.errors:
                self.add_error("street_address", "Enter your street address so we can mail you the catalog.")
            if not data.get("city_state_zip") and "city_state_zip" not in self.errors:
                self.add_error("city_state_zip", "Enter your city, state and ZIP so we can mail you the catalog.")
        return data


GIFT_MIN = Decimal("1.00")
GIFT_MAX = Decimal("10000.00")


class GiftForm(forms.Form):
    """"Add a gift to Pass the Buck" (optional): charged with the seats, booked as a donation."""

    amount = MoneyField(
        label="Add a gift to Pass the Buck (optional)", required=False, allow_zero=True, max_value=GIFT_MAX,
        help_text="In dollars, e.g. 10 or 25.00. Pass the Buck pays half the fee of anyone who asks for a "
                  "scholarship. You get a receipt by e-mail.",
        error_messages={
            "invalid": "Enter the gift in dollars, like 10 or 25.00.",
            "max_decimal_places": "Use at most two decimals (cents).",
            "max_value": f"For a gift over ${GIFT_MAX:,.0f}, please contact the library.",
            "max_digits": f"For a gift over ${GIFT_MAX:,.0f}, please contact the library.",
            "max_whole_digits": f"For a gift over ${GIFT_MAX:,.0f}, please contact the library.",
            "negative": "A gift must be more than $0. Leave the box empty for no gift.",
        },
    )
    anonymous = forms.BooleanField(label="Keep my gift anonymous", required=False,
                                   help_text="We won’t list your name among our donors.")

    def clean_amount(self) -> Decimal:
        value = self.cleaned_data.get("amount")
        if value is None:
            return Decimal("0.00")  # no gift
        if value == 0:
            raise ValidationError("A gift must be more than $0. Leave the box empty for no gift.", code="zero")
        if value < GIFT_MIN:
            raise ValidationError(f"The smallest gift by card is ${GIFT_MIN:,.2f}.", code="min")
        return value.quantize(Decimal("0.01"))


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ClassForm(forms.Form):
    """One class of the cart: how many attendees, and (when it is full) "Put me on the waitlist".

    The page also posts, in hidden inputs written by the template from the server's values (never
    echoed back from a post), the course id, the fee the patron saw, and how many attendee forms
    were shown. :meth:`clean` checks that they still match the cart. The fee is never used for
    charging (the seat service prices every seat from the course): a fee that differs from the
    course's (changed by staff meanwhile, or edited by hand) stops the checkout so the patron
    reviews what they pay.
    """

    attendees = forms.TypedChoiceField(
        label="Attendees for this class", coerce=int, initial=1,
        choices=[(n, str(n)) for n in range(1, MAX_ATTENDEES + 1)],
        error_messages={"invalid_choice": f"Choose from 1 to {MAX_ATTENDEES} attendees.",
                        "required": f"Choose from 1 to {MAX_ATTENDEES} attendees."},
    )
    #: Asked only when a class has fewer seats left than attendees; a class already full was
    #: chosen with its "Join the waitlist" button, so the page posts it as a hidden "on".
    waitlist = forms.BooleanField(label="Put anyone without a seat on the waitlist", required=False)

    def __init__(self, *args, course: Course, cart_ids: list[int], **kwargs):
        self.course = course
        self.cart_ids = cart_ids
        super().__init__(*args, **kwargs)

    def posted(self, name: str) -> str:
        return (self.data.get(self.add_prefix(name)) or "").strip() if self.is_bound else ""

    def clean(self):
        data = super().clean()
        raw = self.posted("course")
        if not raw:
            raise ValidationError("Your cart changed while you were checking out. Please review this class.")
        course_id = _int_or_none(raw)
        if course_id is None:
            raise ValidationError("That class is not in the catalog.")
        if course_id != self.course.pk:
            if course_id in self.cart_ids:
                raise ValidationError("The classes on this page no longer match your cart. Please review them.")
            if not Course.objects.filter(pk=course_id).exists():
                raise ValidationError("That class is not in the catalog.")
            raise ValidationError("That class is not in your cart.")
        try:
            fee = Decimal(self.posted("fee"))
        except InvalidOperation:
            fee = None
        if fee is None or not fee.is_finite() or fee != self.course.fee:
            raise ValidationError(
                f"The fee for this class is ${self.course.fee:,.2f}. Please review your order and submit it again."
            )
        return data


class AttendeeForm(forms.Form):
    """One attendee of one class. The age is asked only for kids' and teen classes."""

    first_name = NameField(label="First name")
    last_name = NameField(label="Last name")
    relationship = forms.ChoiceField(
        label="This attendee is", choices=Registration.Relationship.choices,
        error_messages={"invalid_choice": "Choose myself, a family member, or a friend (gift)."},
    )
    age = forms.IntegerField(
        label="Age", min_value=0, max_value=120,
        error_messages={"required": "Enter the attendee’s age.", "invalid": "Enter the age as a whole number."},
    )

    scholarship = forms.BooleanField(label="Ask for a Pass the Buck scholarship", required=False)

    def __init__(self, *args, course: Course, scholarships: bool = True, **kwargs):
        self.course = course
        super().__init__(*args, **kwargs)
        if scholarships and course.fee > 0:
            half = patron_half(course.fee)
            self.fields["scholarship"].label = f"Ask for a Pass the Buck scholarship: pay half (${half:,.2f})"
            self.fields["scholarship"].help_text = (
                "Donors to our Pass the Buck fund pay the other half. No questions asked; only the program "
                "coordinator and the library’s finance staff see who asked."
            )
        else:
            del self.fields["scholarship"]
        if course.audience in (Course.Audience.KIDS, Course.Audience.TEENS):
            label = course.age_range_label
            self.fields["age"].help_text = f"This class is for {label.lower()}." if label else ""
            self.fields["age"].widget.attrs["inputmode"] = "numeric"
        else:
            del self.fields["age"]

    def clean_age(self):
        age = self.cleaned_data["age"]
        low, high = self.course.age_min, self.course.age_max
        if age is not None and ((low is not None and age < low) or (high is not None and age > high)):
            raise ValidationError(f"“{self.course.title}” is for {self.course.age_range_label.lower()}.")
        return age


def _unbound(form_class, data, *, prefix: str, initial: dict | None = None, **kwargs):
    """An unbound copy of a form whose initial values are what ``data`` posted (used to
    re-render checkout with more or fewer attendees without showing errors yet)."""
    probe = form_class(prefix=prefix, **kwargs)
    posted = {name: f.widget.value_from_datadict(data, {}, probe.add_prefix(name)) for name, f in probe.fields.items()}
    posted = {name: value for name, value in posted.items() if value not in (None, "")}
    return form_class(prefix=prefix, initial={**(initial or {}), **posted}, **kwargs)


@dataclass
class ClassBlock:
    """A class of the cart on the checkout page: its form and its attendee forms."""

    index: int
    course: Course
    form: ClassForm
    attendees: list[AttendeeForm]
    count_changed: bool = False
    offer_waitlist: bool = False
    #: Attendee forms beyond the count, rendered hidden and disabled: the page's script shows
    #: them when the patron raises the count (without scripts, "Update" reloads the page).
    spares: list[AttendeeForm] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return f"class-{self.index}"

    @property
    def half(self) -> Decimal:
        """What a seat costs the patron with a Pass the Buck scholarship."""
        return patron_half(self.course.fee)

    @property
    def prefix(self) -> str:
        return self.form.prefix


@dataclass
class SummaryItem:
    text: str
    href: str = ""


@dataclass
class CheckoutForm:
    """The checkout page's forms together: the buyer, then one block per class in the cart.

    ``rebuild=True`` re-renders a post without validating it (the patron changed how many
    attendees a class has): the forms are unbound, filled with what was posted.
    """

    data: dict | None
    courses: list[Course]
    cart_ids: list[int]
    rebuild: bool = False
    #: Offer "Ask for a Pass the Buck scholarship" (not when the limit option is 0).
    scholarships: bool = True
    #: "Register at full price": the scholarship boxes are ignored (and shown unticked).
    full_price: bool = False
    buyer: BuyerForm = field(init=False)
    gift: GiftForm = field(init=False)
    blocks: list[ClassBlock] = field(init=False)
    non_field_errors: list[str] = field(init=False, default_factory=list)

    def __post_init__(self):
        posted = self.data is not None
        bound_data = self.data if posted and not self.rebuild else None
        if self.rebuild:
            self.buyer = _unbound(BuyerForm, self.data, prefix="buyer")
            self.gift = _unbound(GiftForm, self.data, prefix="gift")
        else:
            self.buyer = BuyerForm(bound_data, prefix="buyer")
            self.gift = GiftForm(bound_data, prefix="gift")
        self.blocks = []
        for i, course in enumerate(self.courses):
            prefix = f"class{i}"
            count, changed = 1, False
            if posted:
                requested = _int_or_none(self.data.get(f"{prefix}-attendees"))
                shown = _int_or_none(self.data.get(f"{prefix}-shown"))
                if requested is not None and 1 <= requested <= MAX_ATTENDEES:
                    count, changed = requested, requested != shown
                elif shown is not None:  # an impossible count is an error; keep the forms shown
                    count = min(max(shown, 1), MAX_ATTENDEES)
            kwargs = {"course": course, "cart_ids": self.cart_ids}
            if self.rebuild:
                form = _unbound(ClassForm, self.data, prefix=prefix, **kwargs)
            else:
                form = ClassForm(bound_data, prefix=prefix, **kwargs)
            attendees = []
            for n in range(count):
                a_prefix = f"{prefix}-attendee{n}"
                first = {"relationship": Registration.Relationship.SELF if n == 0 else Registration.Relationship.FAMILY}
                extra = {"course": course, "scholarships": self.scholarships}
                if self.rebuild:
                    attendees.append(_unbound(AttendeeForm, self.data, prefix=a_prefix, initial=first, **extra))
                else:
                    attendees.append(AttendeeForm(bound_data, prefix=a_prefix, initial=first, **extra))
            spares = [AttendeeForm(prefix=f"{prefix}-attendee{n}", course=course, scholarships=self.scholarships,
                                   initial={"relationship": Registration.Relationship.FAMILY})
                      for n in range(count, MAX_ATTENDEES)]
            block = ClassBlock(index=i, course=course, form=form, attendees=attendees, count_changed=changed,
                               spares=spares)
            block.offer_waitlist = not course.problem and course.seats_left < count
            self.blocks.append(block)

    # --- validation -----------------------------------------------------------------------
    @property
    def count_changed(self) -> bool:
        """The post asked for a different number of attendees than the page showed."""
        return any(block.count_changed for block in self.blocks)

    def _forms(self):
        yield self.buyer
        yield self.gift
        for block in self.blocks:
            yield block.form
            yield from block.attendees

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self._forms()])  # a list: validate every form, show all errors
        return valid and not self.non_field_errors

    def add_error(self, message: str) -> None:
        self.non_field_errors.append(message)

    # --- what the seat service needs ------------------------------------------------------
    def attendee_rows(self) -> list[tuple[ClassBlock, AttendeeForm]]:
        """Every attendee in the order given to the seat service (its ``index``)."""
        return [(block, attendee) for block in self.blocks for attendee in block.attendees]

    def asks_scholarship(self, attendee: AttendeeForm) -> bool:
        return not self.full_price and bool(attendee.cleaned_data.get("scholarship"))

    @property
    def join_waitlist(self) -> set[int]:
        """The classes whose waitlist the patron agreed to join (the seat service's argument)."""
        return {block.course.pk for block in self.blocks if block.form.cleaned_data.get("waitlist")}

    def attach_error(self, exc: EnrollmentError) -> None:
        """Put a seat-service error on the attendee and field it names, on its class when it
        concerns the class (full, closed, cancelled), else on the page."""
        rows = self.attendee_rows()
        if exc.index is None or not 0 <= exc.index < len(rows):
            self.add_error(exc.message)
            return
        block, attendee = rows[exc.index]
        if isinstance(exc, CourseFull):
            block.offer_waitlist = True
            block.form.add_error(None, _full_message(block))
        elif exc.field and exc.field in attendee.fields:
            attendee.add_error(exc.field, exc.message)
        else:
            block.form.add_error(None, exc.message)

    # --- the error summary at the top of the page -----------------------------------------
    def error_summary(self) -> list[SummaryItem]:
        items = [SummaryItem(message) for message in self.non_field_errors]
        items += form_error_summary(self.buyer, context="")
        items += form_error_summary(self.gift, context="")
        for block in self.blocks:
            title = block.course.title
            items += form_error_summary(block.form, context=f"{title} — ", block_href=f"#{block.html_id}")
            for n, attendee in enumerate(block.attendees, start=1):
                items += form_error_summary(attendee, context=f"{title}, attendee {n} — ",
                                            block_href=f"#{block.html_id}")
        return items


def _full_message(block: ClassBlock) -> str:
    """A class that had too few seats when the order was placed: what the patron can do, naming
    the one control that does it."""
    course, seats = block.course, max(block.course.seats_left, 0)
    if seats == 0:
        return (f"“{course.title}” filled up while you were checking out. To join its waitlist instead (nothing "
                "is charged for it), press the button at the end of this page again, or remove the class from your cart.")
    return (f"“{course.title}” has only {seats} seat{'s' if seats != 1 else ''} left for your "
            f"{len(block.attendees)} attendees. Tick “{ClassForm.base_fields['waitlist'].label}” under the class, "
            "or choose fewer attendees.")


def form_error_summary(form: forms.Form, *, context: str = "", block_href: str = "") -> list[SummaryItem]:
    """The errors of a bound form for the summary at the top of a page, each linked to its field."""
    if not form.is_bound:
        return []
    items = []
    for name, errors in form.errors.items():
        for error in errors:
            if name == NON_FIELD_ERRORS:
                items.append(SummaryItem(f"{context}{error}", block_href))
            else:
                bound = form[name]
                items.append(SummaryItem(f"{context}{bound.label}: {error}", f"#{bound.auto_id}"))
    return items


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address", max_length=254, error_messages={"required": "Enter your e-mail address."},
        help_text="The address you used when you registered.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
