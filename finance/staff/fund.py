"""The Pass the Buck pages of the back office, under /staff/money/fund/ (``finance.staff.urls``):

- the fund report (``finance.view_money_reports``): a date range, then the balance over time,
  donations by month and method, scholarship awards per semester and course, the donors for
  thank-you letters and the names that may be published; each table as CSV with
  ``?format=csv&table=balance|donations|awards|donors|publication``;
- the ledger (``finance.view_money_reports``): every entry, newest first, 50 a page, with the
  balance after it;
- the adjustment form (``finance.adjust_fund``): a signed amount and a reason, booked by
  ``fund_adjust``; a refusal is shown on its field and writes nothing.

Who received a scholarship is never shown here: awards are listed by course (and registration
number in the ledger), not by attendee. Thin views, like the other money pages; the reports are ``finance.staff.fund_reports``
and the forms ``finance.staff.forms``.
"""

import datetime as dt
import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from core.locking import Busy

from ..services.fund import FundError, FundInsufficient, FundInvalidAmount, fund_adjust, fund_balance
from . import fund_reports as fr
from .base import ADJUST_FUND, BUSY_MESSAGE, VIEW_REPORTS, MoneyView, csv_response
from .forms import FundAdjustForm, FundReportForm, default_range

LEDGER_PAGE_SIZE = 50
CSV_TABLES = ("balance", "donations", "awards", "donors", "publication")


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
            return csv_response(name, fr.balance_csv_rows(fr.fund_balance_over_time(start=start, end=end, by=by)))
        if table == "donations":
            return csv_response(name, fr.donations_csv_rows(fr.fund_donations_by_month(start=start, end=end)))
        if table == "awards":
            return csv_response(name, fr.awards_csv_rows(fr.fund_awards_by_course(start=start, end=end)))
        if table == "donors":
            return csv_response(name, fr.donors_csv_rows(fr.fund_donors(start=start, end=end)))
        if table == "publication":
            names = fr.fund_names_for_publication(fr.fund_donors(start=start, end=end))
            return csv_response(name, fr.publication_csv_rows(names))
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
