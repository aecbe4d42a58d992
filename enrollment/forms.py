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
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from core.money import MAX_AMOUNT

from .models import ReferralSource

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
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
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


def unbound_copy(form_class, data, *, prefix: str, initial: dict | None = None, **kwargs):
    """An unbound copy of a form whose initial values are what ``data`` posted (used to
    re-render checkout with more or fewer attendees without showing errors yet)."""
    probe = form_class(prefix=prefix, **kwargs)
    posted = {name: f.widget.value_from_datadict(data, {}, probe.add_prefix(name)) for name, f in probe.fields.items()}
    posted = {name: value for name, value in posted.items() if value not in (None, "")}
    return form_class(prefix=prefix, initial={**(initial or {}), **posted}, **kwargs)


@dataclass
class SummaryItem:
    text: str
    href: str = ""


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
