"""The money pages of the back office, under /staff/money/ (``config.urls``, before the admin's
own URLs). Every view goes through ``admin.site.admin_view``: staff only, anyone else is sent to
the back-office login; each view answers 403 to staff without its permission."""

from django.urls import path

from core.staff import staff_page
from enrollment.staff.transfer import RegistrationTransferView

from . import deposits, donations, fund, refunds

app_name = "money"



urlpatterns = [
    path("registrations/<int:pk>/refund/", staff_page(refunds.RefundCreateView), name="refund-create"),
    path("registrations/<int:pk>/transfer/", staff_page(RegistrationTransferView), name="registration-transfer"),
    path("refunds/to-issue/", staff_page(refunds.RefundsToIssueView), name="refunds-to-issue"),
    path("deposits/", staff_page(deposits.DepositReportView), name="deposit-report"),
    path("donations/new/", staff_page(donations.DonationCreateView), name="donation-create"),
    path("donations/<int:pk>/", staff_page(donations.DonationDetailView), name="donation-detail"),
    path("donations/<int:pk>/receipt.pdf", staff_page(donations.DonationReceiptView), name="donation-receipt"),
    path("fund/", staff_page(fund.FundReportView), name="fund-report"),
    path("fund/ledger/", staff_page(fund.FundLedgerView), name="fund-ledger"),
    path("fund/adjust/", staff_page(fund.FundAdjustView), name="fund-adjust"),
]
