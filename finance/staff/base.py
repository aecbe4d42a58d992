"""What every money page of the back office shares: the permissions, the base view (one
permission, 403 without it), the busy message and the CSV download."""

import csv
from decimal import Decimal

from django.http import HttpResponse

from core.staff import StaffPageView

ISSUE_REFUND = "finance.issue_refund"
OUTSIDE_POLICY = "finance.refund_outside_policy"
VIEW_REPORTS = "finance.view_money_reports"
#: Donations taken at the desk are money taken at the desk: the same permission as cash and checks
#: on an order (front desk, finance, the coordinator).
TAKE_OFFLINE = "finance.take_offline_payment"
ADJUST_FUND = "finance.adjust_fund"
BUSY_MESSAGE = "Someone else is working on this right now. Please try again in a moment."


def dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


class MoneyView(StaffPageView):
    """A money page of the back office that needs one permission (403 without it)."""

    permission: str = ISSUE_REFUND

    def page_flags(self) -> dict:
        user = self.request.user
        return {"can_issue_refund": user.has_perm(ISSUE_REFUND), "can_view_reports": user.has_perm(VIEW_REPORTS)}


def csv_response(filename: str, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in rows:
        writer.writerow(row)
    return response
