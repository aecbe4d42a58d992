"""The Pass the Buck pages of the back office, under /staff/money/fund/ (``finance.staff_urls``):

- the fund report (``finance.view_money_reports``): a date range, then the balance over time,
  donations by month and method, scholarship awards per semester and course, the donors for
  thank-you letters and the names that may be published; each table as CSV with
  ``?format=csv&table=balance|donations|awards|donors|publication``;
- the ledger (``finance.view_money_reports``): every entry, newest first, 50 a page, with the
  balance after it;
- the adjustment form (``finance.adjust_fund``): a signed amount and a reason, booked by
  ``fund_adjust``; a refusal is shown on its field and writes nothing.

Who received a scholarship is never shown here: awards are listed by course (and registration
number in the ledger), not by attendee. Thin views, like the other money pages (``staff_views``).
"""

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from core.locking import Busy

from . import fund_reports as fr
from .services.fund import MAX_AMOUNT, FundError, FundInsufficient, FundInvalidAmount, fund_adjust, fund_balance
from .staff_views import BUSY_MESSAGE, VIEW_REPORTS, MoneyView, _csv

ADJUST_FUND = "finance.adjust_fund"
#: Dates the report accepts (a typo like 0202 or 20266 gets a message, not an error page).
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
LEDGER_PAGE_SIZE = 50
REASON_MAX = 300  # FundEntry.reason
CSV_TABLES = ("balance", "donations", "awards", "donors", "publication")


# --- forms ---------------------------------------------------------------------------------------

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
        raise forms.ValidationError(f"That amount is too large: at most ${MAX_AMOUNT:,.2f}.")
    try:
        amount = Decimal(f"{match['sign'] or '+'}{whole}.{cents or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain digits
        raise forms.ValidationError("Enter the amount in dollars and cents, like 25.00 or -25.00.") from None
    if amount == 0:
        raise forms.ValidationError("The amount must not be zero: use a minus sign to take money out.")
    if abs(amount) > MAX_AMOUNT:
        raise forms.ValidationError(f"That amount is too large: at most ${MAX_AMOUNT:,.2f}.")
    return amount


class FundAdjustForm(forms.Form):
    amount = forms.CharField(
        label="Amount ($)", strip=True,
        help_text="Positive adds to the fund (25.00), negative takes out of it (-25.00).",
        error_messages={"required": "Enter the amount, like 25.00 to add or -25.00 to take out."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12, "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label="Reason", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept with the entry for good, with your name; for example “Check 1042 counted twice”.",
        error_messages={"required": "Say why the fund is adjusted.",
                        "max_length": f"Use at most {REASON_MAX} characters."},
    )

    key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput, required=False)

    def clean_amount(self):
        return parse_signed_amount(self.cleaned_data["amount"])


# --- the views -------------------------------------------------------------------------------------

def _signed(amount: Decimal) -> str:
    return f"−${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


class FundPageView(MoneyView):
    def page_flags(self) -> dict:
        user = self.request.user
        return {**super().page_flags(), "can_adjust_fund": user.has_perm(ADJUST_FUND)}


class FundReportView(FundPageView):
    """The fund report for a date range (the last twelve months by default)."""

    permission = VIEW_REPORTS
    template = "staff/money/fund_report.html"

    def get(self, request):
        # Any of start, end and by left out of the query takes its default (the last twelve months).
        form = FundReportForm({**default_range(timezone.localdate()), **request.GET.dict()})
        if not form.is_valid():
            if request.GET.get("format") == "csv":
                return HttpResponseBadRequest("Choose a valid date range.", content_type="text/plain; charset=utf-8")
            return self.render(self.template, "Pass the Buck fund report", status=400, form=form, report=None)
        start, end, by = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["by"]
        if request.GET.get("format") == "csv":
            return self._csv(request.GET.get("table", ""), start, end, by)
        donors = fr.fund_donors(start=start, end=end)
        return self.render(
            self.template, f"Pass the Buck fund report: {start:%b %-d, %Y} – {end:%b %-d, %Y}", form=form,
            report=fr.fund_balance_over_time(start=start, end=end, by=by),
            donations=fr.fund_donations_by_month(start=start, end=end),
            awards=fr.fund_awards_by_course(start=start, end=end),
            donors=donors, public_names=fr.fund_names_for_publication(donors),
            query=f"start={start.isoformat()}&end={end.isoformat()}&by={by}",
        )

    def _csv(self, table: str, start: dt.date, end: dt.date, by: str):
        name = f"pass-the-buck-{table}-{start}-{end}.csv"
        if table == "balance":
            return _csv(name, fr.balance_csv_rows(fr.fund_balance_over_time(start=start, end=end, by=by)))
        if table == "donations":
            return _csv(name, fr.donations_csv_rows(fr.fund_donations_by_month(start=start, end=end)))
        if table == "awards":
            return _csv(name, fr.awards_csv_rows(fr.fund_awards_by_course(start=start, end=end)))
        if table == "donors":
            return _csv(name, fr.donors_csv_rows(fr.fund_donors(start=start, end=end)))
        if table == "publication":
            names = fr.fund_names_for_publication(fr.fund_donors(start=start, end=end))
            return _csv(name, fr.publication_csv_rows(names))
        return HttpResponseBadRequest(f"Choose a table: {', '.join(CSV_TABLES)}.",
                                      content_type="text/plain; charset=utf-8")


class FundLedgerView(FundPageView):
    """Every entry of the fund, newest first, with the balance after each."""

    permission = VIEW_REPORTS
    template = "staff/money/fund_ledger.html"

    def get(self, request):
        page = Paginator(fr.fund_ledger(), LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
        return self.render(self.template, "Pass the Buck ledger", page=page, balance=fund_balance())


class FundAdjustView(FundPageView):
    """Add to or take out of the fund by hand, with a reason (``fund_adjust``); then back here
    with a message (POST-redirect-GET). A negative adjustment may not take the balance below zero."""

    permission = ADJUST_FUND
    template = "staff/money/fund_adjust.html"
    title = "Adjust the Pass the Buck fund"

    def _page(self, form: FundAdjustForm, status: int = 200):
        return self.render(self.template, self.title, status=status, form=form, balance=fund_balance())

    def get(self, request):
        # The one-time key: a double-clicked or replayed submission is booked once.
        return self._page(FundAdjustForm(initial={"key": uuid.uuid4().hex}))

    def post(self, request):
        form = FundAdjustForm(request.POST)
        if not form.is_valid():
            return self._page(form, status=400)
        data = form.cleaned_data
        try:
            entry = fund_adjust(amount=data["amount"], reason=data["reason"], by=request.user,
                                key=data.get("key") or "")
        except (FundInvalidAmount, FundInsufficient) as exc:
            form.add_error("amount", exc.message)
            return self._page(form, status=400)
        except FundError as exc:  # the form already asks for a reason; anything else is for the page
            form.add_error("reason" if not data["reason"].strip() else None, exc.message)
            return self._page(form, status=400)
        except Busy:
            form.add_error(None, BUSY_MESSAGE)
            return self._page(form, status=503)
        messages.success(request, f"Adjustment of {_signed(entry.amount)} recorded; the fund now holds "
                                  f"{_signed(fund_balance())}.")
        return HttpResponseRedirect(reverse("money:fund-adjust"))
