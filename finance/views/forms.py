"""Forms of finance's public pages: the Pass the Buck gift form (``/give/``). The back office's
forms are in ``finance.staff.forms``."""

import re
import unicodedata
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from enrollment.forms import NameField

SUGGESTED_AMOUNTS = (Decimal("10"), Decimal("25"), Decimal("50"), Decimal("100"))
OTHER = "other"
AMOUNT_HELP = "Dollars and cents, like 30 or 30.50."
_AMOUNT_SHAPE = re.compile(r"^\d+(?:\.\d+)?$")  # digits, maybe decimals: no signs, exponents, NaN or spaces
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")  # 1,000 or 1,000.50


def validate_free_text(value: str) -> None:
    """Free text a donor types (an address, a dedication): line breaks are fine; markup and other
    control characters are not."""
    for ch in value:
        if ch in "<>" or (unicodedata.category(ch)[0] == "C" and ch not in "\r\n\t"):
            raise ValidationError("Remove the “<”, “>” or hidden control characters.", code="forbidden_character")


class GiftForm(forms.Form):
    """The shape of a gift: a suggested amount or another one, who gives it and how to thank them.
    The amount's rules (above zero, at least $1.00, at most $99,999.99) and the e-mail being
    required are the service's (``finance.services.donations.donation_start_card``); its errors are
    put back on the field at fault (:meth:`attach_error`)."""

    choice = forms.ChoiceField(
        label="Choose an amount", required=False, widget=forms.RadioSelect,
        choices=[(str(a), f"${a}") for a in SUGGESTED_AMOUNTS] + [(OTHER, "Another amount")],
        error_messages={"invalid_choice": "Choose one of the amounts, or enter another amount."},
    )
    other_amount = forms.CharField(
        label="Another amount ($)", required=False, max_length=20, help_text=AMOUNT_HELP,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10, "autocomplete": "off"}),
    )
    first_name = NameField(label="First name", autocomplete="given-name")
    last_name = NameField(label="Last name", autocomplete="family-name")
    email = forms.EmailField(
        label="E-mail", max_length=254, help_text="Your thank-you and your receipt (a PDF) come here.",
        error_messages={"required": "Enter your e-mail address: your receipt goes there.",
                        "invalid": "Enter an e-mail address like name@example.com."},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    address = forms.CharField(
        label="Postal address (optional)", required=False, max_length=500, validators=[validate_free_text],
        help_text="Printed on your receipt, if you would like it there.",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    dedication = forms.CharField(
        label="In honor or memory of (optional)", required=False, max_length=200, validators=[validate_free_text],
        help_text="For example “In memory of Ruth Adams”. It appears on your receipt.",
    )
    anonymous = forms.BooleanField(
        label="Keep my gift anonymous", required=False,
        help_text="We will never list your name among our donors. Your receipt still carries it.",
    )

    #: The form field a service error on the amount belongs to (set by :meth:`clean`).
    amount_field = "choice"

    def clean(self):
        data = super().clean()
        choice, other = data.get("choice") or "", (data.get("other_amount") or "").strip()
        if "choice" in self.errors or "other_amount" in self.errors:
            return data
        if choice and choice != OTHER:
            if other:
                self.add_error("other_amount", "You chose a suggested amount and typed another one: "
                                               "choose “Another amount” to give this one, or clear it.")
                return data
            data["amount"] = Decimal(choice)
            return data
        self.amount_field = "other_amount"
        if not other:
            if choice == OTHER:
                self.add_error("other_amount", "Enter the amount of your gift, like 30 or 30.50.")
            else:
                self.amount_field = "choice"
                self.add_error("choice", "Choose an amount, or enter another amount.")
            return data
        text = other.removeprefix("$").strip()
        if _GROUPED.match(text):
            text = text.replace(",", "")
        if not _AMOUNT_SHAPE.match(text):
            self.add_error("other_amount", "Enter the amount in dollars and cents, like 30 or 30.50.")
            return data
        data["amount"] = Decimal(text)
        return data

    def attach_error(self, field: str | None, message: str) -> None:
        """Put a service error (``DonationInvalid.field``) on the form field it is about."""
        if field == "amount":
            field = self.amount_field
        self.add_error(field if field in self.fields else None, message)
