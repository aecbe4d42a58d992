"""The daily deposit report page of the back office (/staff/money/deposits/,
``finance.view_money_reports``): on screen, printable and as CSV. The report itself is
``finance.staff.deposit_report``."""

import datetime as dt

from django.utils import timezone

from . import deposit_report as reports
from .base import VIEW_REPORTS, MoneyView, csv_response
from .forms import DepositRangeForm


class DepositReportView(MoneyView):
    """Cash and checks received per day and per staff member, refunds issued, totals; CSV with
    ``?export=summary`` (per day and staff member) or ``?export=items`` (every payment and refund)."""

    permission = VIEW_REPORTS
    template = "staff/money/deposit_report.html"

    def get(self, request):
        today = timezone.localdate()
        if "start" in request.GET or "end" in request.GET:
            form = DepositRangeForm(request.GET)
        else:
            form = DepositRangeForm({"start": today.isoformat(), "end": today.isoformat()})
        if not form.is_valid():
            return self.render(self.template, "Deposit report", status=400, form=form, report=None)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        report = reports.deposit_report(start=start, end=end)
        export = request.GET.get("export", "")
        if export == "summary":
            return csv_response(f"deposits-{start}-{end}.csv", reports.deposit_csv_rows(report))
        if export == "items":
            return csv_response(f"deposit-items-{start}-{end}.csv",
                        reports.deposit_item_rows(reports.deposit_items(start=start, end=end)))
        items = reports.deposit_items(start=start, end=end)
        days = _range_label(start, end)
        return self.render(self.template, f"Deposit report: {days}", form=form, report=report, items=items,
                           query=f"start={start.isoformat()}&end={end.isoformat()}")


def _range_label(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{start:%a, %b %-d, %Y}"
    return f"{start:%b %-d, %Y} – {end:%b %-d, %Y}"
