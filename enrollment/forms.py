"""Field types, validators and helpers shared by enrollment's forms (the patron pages'
``enrollment.views.forms``, the back office's ``enrollment.staff.forms``) and finance's: names,
phone numbers, plain text, amounts of money, the unbound copy of a post, and the error summary.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import InvalidOperation

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from core.money import MAX_AMOUNT

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
