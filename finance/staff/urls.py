"""The money pages of the back office, under /staff/money/ (``config.urls``, before the admin's
own URLs). Every view goes through ``admin.site.admin_view``: staff only, anyone else is sent to
the back-office login; each view answers 403 to staff without its permission."""

from django.contrib import admin
from django.urls import path

from enrollment.staff.transfer import RegistrationTransferView

from . import deposits, donations, fund, refunds

app_name = "money"


def _staff(view_class):
    return admin.site.admin_view(view_class.as_view())


urlpatterns = [
    path("registrations/<int:pk>/refund/", _staff(refunds.RefundCreateView), name="refund-create"),
    path("registrations/<int:pk>/transfer/", _staff(RegistrationTransferView), name="registration-transfer"),
    path("refunds/to-issue/", _staff(refunds.RefundsToIssueView), name="refunds-to-issue"),
    path("deposits/", _staff(deposits.DepositReportView), name="deposit-report"),
    path("donations/new/", _staff(donations.DonationCreateView), name="donation-create"),
    path("donations/<int:pk>/", _staff(donations.DonationDetailView), name="donation-detail"),
    path("donations/<int:pk>/receipt.pdf", _staff(donations.DonationReceiptView), name="donation-receipt"),
    path("fund/", _staff(fund.FundReportView), name="fund-report"),
    path("fund/ledger/", _staff(fund.FundLedgerView), name="fund-ledger"),
    path("fund/adjust/", _staff(fund.FundAdjustView), name="fund-adjust"),
]
