"""The money pages of the back office, under /staff/money/ (``config.urls``, before the admin's
own URLs). Every view goes through ``admin.site.admin_view``: staff only, anyone else is sent to
the back-office login; each view answers 403 to staff without its permission."""

from django.contrib import admin
from django.urls import path

from enrollment.staff.transfer import RegistrationTransferView

from . import fund_views, staff_views

app_name = "money"


def _staff(view_class):
    return admin.site.admin_view(view_class.as_view())


urlpatterns = [
    path("registrations/<int:pk>/refund/", _staff(staff_views.RefundCreateView), name="refund-create"),
    path("registrations/<int:pk>/transfer/", _staff(RegistrationTransferView), name="registration-transfer"),
    path("refunds/to-issue/", _staff(staff_views.RefundsToIssueView), name="refunds-to-issue"),
    path("deposits/", _staff(staff_views.DepositReportView), name="deposit-report"),
    path("donations/new/", _staff(staff_views.DonationCreateView), name="donation-create"),
    path("donations/<int:pk>/", _staff(staff_views.DonationDetailView), name="donation-detail"),
    path("donations/<int:pk>/receipt.pdf", _staff(staff_views.DonationReceiptView), name="donation-receipt"),
    path("fund/", _staff(fund_views.FundReportView), name="fund-report"),
    path("fund/ledger/", _staff(fund_views.FundLedgerView), name="fund-ledger"),
    path("fund/adjust/", _staff(fund_views.FundAdjustView), name="fund-adjust"),
]
