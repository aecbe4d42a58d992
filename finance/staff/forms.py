"""The forms of finance's back office: a refund and its check number, the deposit report's
dates, a donation taken at the desk, the fund report's range and a fund adjustment, and the model
admin's "mark issued" formset. Input shape only: the rules are the services' (their limits come
from ``finance.limits``), and their errors are put back on the field at fault by the views."""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django import forms

from ..limits import (
    ADDRESS_MAX,
    DEDICATION_MAX,
    DONATION_REFERENCE_MAX,
    DONOR_NAME_MAX,
    FUND_MAX_AMOUNT,
    FUND_REASON_MAX,
    REFUND_OVERRIDE_MAX,
    REFUND_REASON_MAX,
)
from ..models import Donation
from . import deposit_report
from . import fund_reports as fr

# --- refunds ---------------------------------------------------------------------------------------

class RefundForm(forms.Form):
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    amount = forms.DecimalField(
        label="Amount to refund ($)", max_digits=10, decimal_places=2, min_value=Decimal("0.01"),
        error_messages={"min_value": "Enter an amount greater than zero.", "invalid": "Enter the amount in "
                        "dollars and cents, like 10 or 12.50.", "required": "Enter the amount to refund."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )
    reason = forms.CharField(
        max_length=REFUND_REASON_MAX, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={"required": "Say why the money is given back."},
        help_text="Kept with the refund and shown to finance.",
    )
    override_reason = forms.CharField(
        label="Override reason", max_length=REFUND_OVERRIDE_MAX, required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Required when the amount is more than the refund policy allows.",
    )

    def __init__(self, *args, can_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_override:
            del self.fields["override_reason"]


class RefundIssuedForm(forms.Form):
    refund_id = forms.IntegerField(widget=forms.HiddenInput)
    reference = forms.CharField(
        label="Refund check number", max_length=120,
        error_messages={"required": "Enter the refund check number (for cash, the receipt number)."},
    )


class RefundIssuedAdminForm(forms.Form):
    """One refund of the model admin's "mark issued" action (``finance.admin``)."""

    refund_id = forms.IntegerField(widget=forms.HiddenInput)
    reference = forms.CharField(
        label="Refund check number", max_length=120,
        help_text="The number of the refund check (for cash, the receipt number or who handed it out).",
    )


RefundIssuedFormSet = forms.formset_factory(RefundIssuedAdminForm, extra=0)


# --- the deposit report ----------------------------------------------------------------------------

#: The dates a report can be asked for (a far-off year would overflow the day's bounds).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


class DepositRangeForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, f"Choose a date from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
                return data
        if start and end:
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days >= deposit_report.MAX_DAYS:
                self.add_error("end", f"Choose at most {deposit_report.MAX_DAYS} days.")
        return data


# --- a donation taken at the desk ------------------------------------------------------------------

class DonationForm(forms.Form):
    """The input's shape; the amount and the check number are checked by the service (one set of
    rules with desk payments) and its errors are put on the field at fault."""

    first_name = forms.CharField(label="Donor's first name", max_length=DONOR_NAME_MAX,
                                 error_messages={"required": "Enter the donor's first name."})
    last_name = forms.CharField(label="Donor's last name", max_length=DONOR_NAME_MAX,
                                error_messages={"required": "Enter the donor's last name."})
    email = forms.EmailField(label="E-mail (optional)", required=False,
                             help_text="The thank-you e-mail with the receipt (PDF) goes here.",
                             error_messages={"invalid": "Enter an e-mail address like name@example.com."})
    address = forms.CharField(label="Postal address (optional)", required=False, max_length=ADDRESS_MAX,
                              widget=forms.Textarea(attrs={"rows": 3, "cols": 40}))
    amount = forms.CharField(label="Amount ($)", max_length=20,
                             error_messages={"required": "Enter the amount, like 25 or 25.50."},
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
    method = forms.ChoiceField(label="Paid by", choices=[(Donation.Method.CASH, "Cash"),
                                                         (Donation.Method.CHECK, "Check")],
                               widget=forms.RadioSelect, error_messages={"required": "Choose cash or check."})
    reference = forms.CharField(label="Check number", required=False, max_length=DONATION_REFERENCE_MAX,
                                help_text="Required for a check.")
    dedication = forms.CharField(label="Dedication (optional)", required=False, max_length=DEDICATION_MAX,
                                 help_text='For example "In honor of Ada Lopez".')
    anonymous = forms.BooleanField(label="Anonymous: never list this donor by name", required=False)


# --- Pass the Buck: the fund report and an adjustment ----------------------------------------------

#: Dates the report accepts (a typo like 0202 or 20266 gets a message, not an error page).
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


class FundReportForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"required": "Enter the first day.",
                                            "invalid": "Enter a date like 2026-01-31."})
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"required": "Enter the last day.",
                                          "invalid": "Enter a date like 2026-12-31."})
    by = forms.ChoiceField(label="Balance by", choices=[(fr.MONTH, "Month"), (fr.DAY, "Day")],
                           error_messages={"required": "Choose month or day.",
                                           "invalid_choice": "Choose month or day."})

    def _in_range(self, name: str):
        value = self.cleaned_data.get(name)
        if value is not None and not FIRST_DATE <= value <= LAST_DATE:
            raise forms.ValidationError(f"Enter a date from {FIRST_DATE.year} to {LAST_DATE.year}.")
        return value

    def clean_start(self):
        return self._in_range("start")

    def clean_end(self):
        return self._in_range("end")

    def clean(self):
        data = super().clean()
        start, end, by = data.get("start"), data.get("end"), data.get("by")
        if start and end:
            if end < start:
                self.add_error("end", "The last day is before the first day.")
            elif by == fr.DAY and (end - start).days >= fr.MAX_DAYS:
                self.add_error("end", f"Day by day covers at most {fr.MAX_DAYS} days: choose a shorter range, "
                                      "or show the balance by month.")
            elif by == fr.MONTH and fr.months_between(start, end) > fr.MAX_MONTHS:
                self.add_error("end", f"Choose at most {fr.MAX_MONTHS // 12} years.")
        return data


def default_range(today: dt.date) -> dict:
    """The last twelve months: the first day of the month eleven months ago to today."""
    month = today.replace(day=1)
    for _ in range(11):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return {"start": month.isoformat(), "end": today.isoformat(), "by": fr.MONTH}


_AMOUNT = re.compile(r"^(?P<sign>[+-]?)\$?(?P<whole>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<cents>\d*))?$")
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # a typographic minus or dash typed or pasted


def parse_signed_amount(text: str) -> Decimal:
    """Dollars and cents as staff type them (``25``, ``-25.50``, ``+$1,200.00``) → a ``Decimal``
    with two places. Refuses exponents (``1e9``), ``NaN``, more than two decimals, zero and
    amounts above what the ledger holds, each with its own message."""
    text = "".join((text or "").split()).translate(_MINUS)
    if not text:
        raise forms.ValidationError("Enter the amount, like 25.00 to add or -25.00 to take out.")
    match = _AMOUNT.match(text)
    if match is None or not (match["whole"] or match["cents"]):
        raise forms.ValidationError("Enter the amount in dollars and cents, like 25.00 or -25.00.")
    cents = match["cents"] or ""
    if len(cents) > 2:
        raise forms.ValidationError("Use at most 2 decimals (dollars and cents).")
    whole = match["whole"].replace(",", "") or "0"
    if len(whole) > 12:
        raise forms.ValidationError(f"That amount is too large: at most ${FUND_MAX_AMOUNT:,.2f}.")
    try:
        amount = Decimal(f"{match['sign'] or '+'}{whole}.{cents or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain digits
        raise forms.ValidationError("Enter the amount in dollars and cents, like 25.00 or -25.00.") from None
    if amount == 0:
        raise forms.ValidationError("The amount must not be zero: use a minus sign to take money out.")
    if abs(amount) > FUND_MAX_AMOUNT:
        raise forms.ValidationError(f"That amount is too large: at most ${FUND_MAX_AMOUNT:,.2f}.")
    return amount


class FundAdjustForm(forms.Form):
    amount = forms.CharField(
        label="Amount ($)", strip=True,
        help_text="Positive adds to the fund (25.00), negative takes out of it (-25.00).",
        error_messages={"required": "Enter the amount, like 25.00 to add or -25.00 to take out."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12, "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label="Reason", max_length=FUND_REASON_MAX, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept with the entry for good, with your name; for example “Check 1042 counted twice”.",
        error_messages={"required": "Say why the fund is adjusted.",
                        "max_length": f"Use at most {FUND_REASON_MAX} characters."},
    )

    key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput, required=False)

    def clean_amount(self):
        return parse_signed_amount(self.cleaned_data["amount"])
