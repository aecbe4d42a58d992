"""The Pass the Buck donation pages of the back office (/staff/money/donations/,
``finance.take_offline_payment``): record a cash or check donation taken at the desk, see it,
download its receipt."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from ..donation_access import GRANT_FOR, donation_grant, donation_may_open
from ..models import Donation
from ..services.donations import DonationInvalid, donation_receipt_pdf, donation_record_offline, receipt_filename
from .base import TAKE_OFFLINE, MoneyView, dollars
from .forms import DonationForm


class DonationCreateView(MoneyView):
    """Record a cash or check donation to Pass the Buck; then show it (with its receipt)."""

    permission = TAKE_OFFLINE
    template = "staff/money/donation_form.html"

    def get(self, request):
        return self.render(self.template, "Record a donation to Pass the Buck", form=DonationForm())

    def post(self, request):
        form = DonationForm(request.POST)
        if not form.is_valid():
            return self.render(self.template, "Record a donation to Pass the Buck", status=400, form=form)
        try:
            donation = donation_record_offline(**form.cleaned_data, taken_by=request.user)
        except DonationInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.render(self.template, "Record a donation to Pass the Buck", status=400, form=form)
        donation_grant(request, donation)  # this clerk may reopen and print it for a while, nothing else
        messages.success(request, f"Donation {donation.receipt_number} of {dollars(donation.amount)} recorded."
                         + (" The thank-you e-mail with the receipt is on its way." if donation.email else ""))
        return HttpResponseRedirect(reverse("money:donation-detail", args=[donation.pk]))


def _openable(request, donation: Donation) -> Donation:
    """Finance and the coordinator open any donation; the clerk who just recorded one, that one
    (``finance.donation_access``); anyone else gets 403."""
    if not donation_may_open(request, donation):
        raise PermissionDenied
    return donation


class DonationDetailView(MoneyView):
    permission = TAKE_OFFLINE

    def get(self, request, pk):
        donation = _openable(request, get_object_or_404(Donation.objects.select_related("taken_by"), pk=pk))
        return self.render("staff/money/donation_detail.html", f"Donation {donation.receipt_number}",
                           donation=donation, grant_minutes=int(GRANT_FOR.total_seconds() // 60))


class DonationReceiptView(MoneyView):
    """The receipt as a PDF download."""

    permission = TAKE_OFFLINE

    def get(self, request, pk):
        donation = _openable(request, get_object_or_404(Donation, pk=pk, status=Donation.Status.SUCCEEDED))
        response = HttpResponse(donation_receipt_pdf(donation), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{receipt_filename(donation)}"'
        return response
