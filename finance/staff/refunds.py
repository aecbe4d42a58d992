"""The money pages of the staff back office, under /staff/money/ (``finance.staff_urls``), in
the Django admin's look and behind its login:

- a refund for a registration (``finance.issue_refund``; outside the policy also
  ``finance.refund_outside_policy``),
- the cash and check refunds still to issue, each closed with its refund check number
  (``finance.issue_refund``),
- the daily deposit report, on screen, printable and as CSV (``finance.view_money_reports``).

Thin, like every view here: the permission, a form, one service or report, the domain error as
a message on its field. Every view is wrapped in ``admin.site.admin_view`` (anonymous → the
back-office login) and answers 403 to staff without its permission.
"""

import csv
import datetime as dt
import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.locking import Busy
from core.money import format_money
from core.staff import StaffPageView
from enrollment.models import Registration

from . import reports, selectors
from .balances import order_balance
from .donation_access import GRANT_FOR, donation_grant, donation_may_open
from .errors import PaymentError
from .models import Donation, Payment, Refund
from .services import refund_mark_issued
from .services.donations import (
    ADDRESS_MAX,
    DEDICATION_MAX,
    NAME_MAX,
    REFERENCE_MAX,
    DonationInvalid,
    donation_receipt_pdf,
    donation_record_offline,
    receipt_filename,
)
from .services.staff import (
    OVERRIDE_MAX,
    REASON_MAX,
    DuplicateRefund,
    RefundRefused,
    refund_create,
    refund_limits,
)

ISSUE_REFUND = "finance.issue_refund"
OUTSIDE_POLICY = "finance.refund_outside_policy"
VIEW_REPORTS = "finance.view_money_reports"
#: Donations taken at the desk are money taken at the desk: the same permission as cash and checks
#: on an order (front desk, finance, the coordinator).
TAKE_OFFLINE = "finance.take_offline_payment"
BUSY_MESSAGE = "Someone else is working on this right now. Please try again in a moment."


def _dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


def balance_text(due: Decimal) -> str:
    """An order's balance as staff read it."""
    if due > 0:
        return f"{_dollars(due)} due"
    if due < 0:
        return f"{_dollars(-due)} owed to the patron"
    return "settled"


# --- forms ---------------------------------------------------------------------------------------

class RefundForm(forms.Form):
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    amount = forms.DecimalField(
        label="Amount to refund ($)", max_digits=10, decimal_places=2, min_value=Decimal("0.01"),
        error_messages={"min_value": "Enter an amount greater than zero.", "invalid": "Enter the amount in "
                        "dollars and cents, like 10 or 12.50.", "required": "Enter the amount to refund."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )
    reason = forms.CharField(
        max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={"required": "Say why the money is given back."},
        help_text="Kept with the refund and shown to finance.",
    )
    override_reason = forms.CharField(
        label="Override reason", max_length=OVERRIDE_MAX, required=False,
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
            elif (end - start).days >= reports.MAX_DAYS:
                self.add_error("end", f"Choose at most {reports.MAX_DAYS} days.")
        return data


# --- the base view ---------------------------------------------------------------------------------

class MoneyView(StaffPageView):
    """A money page of the back office that needs one permission (403 without it)."""

    permission: str = ISSUE_REFUND

    def page_flags(self) -> dict:
        user = self.request.user
        return {"can_issue_refund": user.has_perm(ISSUE_REFUND), "can_view_reports": user.has_perm(VIEW_REPORTS)}


# --- a refund for a registration --------------------------------------------------------------------

def _describe(refund: Refund) -> str:
    amount = format_money(refund.amount)
    if refund.payment.provider == Payment.Provider.CARD:
        if refund.status == Refund.Status.DONE:
            return f"{amount} back to the card (Stripe refund {refund.reference})"
        if refund.status == Refund.Status.FAILED:
            return f"{amount} to the card: Stripe refused it ({refund.last_error}); see the refunds list"
        return f"{amount} to the card: Stripe could not be reached yet, it is retried automatically"
    return f"{amount} to issue by {refund.payment.get_provider_display().lower()} refund (“Refunds to issue”)"


class RefundCreateView(MoneyView):
    """Refund part or all of what a registration paid, with a reason. The amount starts at what
    the refund policy allows; more needs an override reason and ``finance.refund_outside_policy``."""

    permission = ISSUE_REFUND
    template = "staff/money/refund_form.html"

    def _registration(self, pk) -> Registration:
        qs = Registration.objects.select_related("course", "course__semester", "order")
        return get_object_or_404(qs, pk=pk)

    def _page(self, registration: Registration, form: RefundForm, status: int = 200) -> TemplateResponse:
        limits = refund_limits(registration)
        payments = selectors.registration_payments(registration)
        refunds = (Refund.objects.filter(registration_id__in=selectors.registration_lineage(registration))
                   .select_related("payment", "issued_by").order_by("created_at", "pk"))
        return self.render(
            self.template, f"Refund: {registration.attendee_name} in {registration.course.title}", status=status,
            registration=registration, order=registration.order, limits=limits, payments=payments, refunds=refunds,
            balance=balance_text(order_balance(registration.order).due), form=form,
            can_override=self.request.user.has_perm(OUTSIDE_POLICY),
            transferred_to=getattr(registration, "transferred_to", None)
            if registration.status == Registration.Status.TRANSFERRED else None,
        )

    def get(self, request, pk):
        registration = self._registration(pk)
        limits = refund_limits(registration)
        form = RefundForm(
            initial={"form_key": uuid.uuid4().hex, "amount": limits.within_policy if limits.within_policy > 0 else None},
            can_override=request.user.has_perm(OUTSIDE_POLICY),
        )
        return self._page(registration, form)

    def post(self, request, pk):
        registration = self._registration(pk)
        can_override = request.user.has_perm(OUTSIDE_POLICY)
        form = RefundForm(request.POST, can_override=can_override)
        if not form.is_valid():
            return self._page(registration, form, status=400)
        data = form.cleaned_data
        try:
            refunds = refund_create(
                registration=registration, amount=data["amount"], reason=data["reason"], actor=request.user,
                override_reason=data.get("override_reason", "") if can_override else "", form_key=data["form_key"],
            )
        except DuplicateRefund as exc:
            messages.info(request, "This refund was already recorded: "
                          + "; ".join(_describe(r) for r in exc.refunds) + ".")
            return HttpResponseRedirect(request.path)
        except RefundRefused as exc:
            field = exc.field if exc.field in form.fields else None
            if exc.field == "override_reason" and not can_override:
                limits = refund_limits(registration)
                field, exc.message = "amount", (
                    f"The refund policy allows at most {_dollars(limits.within_policy)} for this registration. "
                    "A larger refund is outside policy: ask a program coordinator or finance lead who may approve it."
                )
            form.add_error(field, exc.message)
            return self._page(registration, form, status=400)
        except Busy:
            form.add_error(None, BUSY_MESSAGE)
            return self._page(registration, form, status=503)
        for refund in refunds:
            refund.refresh_from_db()  # a card refund was made on Stripe after the commit
        messages.success(request, "Refund recorded: " + "; ".join(_describe(r) for r in refunds) + ".")
        return HttpResponseRedirect(request.path)


# --- refunds to issue -----------------------------------------------------------------------------

class RefundsToIssueView(MoneyView):
    """The cash and check refunds finance still has to hand out, oldest first; each is closed
    with its refund check number (``refund_mark_issued``, which e-mails the patron). Card refunds
    that Stripe refused are listed for a look (they are retried or made by hand on Stripe)."""

    permission = ISSUE_REFUND
    template = "staff/money/refunds_to_issue.html"

    def _page(self, forms_by_id: dict | None = None, status: int = 200) -> TemplateResponse:
        pending = list(
            Refund.objects.filter(status=Refund.Status.PENDING).exclude(payment__provider=Payment.Provider.CARD)
            .select_related("payment", "payment__order", "registration", "registration__course", "issued_by")
            .order_by("created_at", "pk")
        )
        forms_by_id = forms_by_id or {}
        rows = [(r, forms_by_id.get(r.pk) or RefundIssuedForm(initial={"refund_id": r.pk}, prefix=f"r{r.pk}"))
                for r in pending]
        failed = list(
            Refund.objects.filter(status=Refund.Status.FAILED, payment__provider=Payment.Provider.CARD)
            .select_related("payment", "payment__order", "registration", "registration__course")
            .order_by("created_at", "pk")
        )
        total = sum((r.amount for r in pending), Decimal("0.00"))
        return self.render(self.template, "Refunds to issue", status=status, rows=rows, failed=failed, total=total)

    def get(self, request):
        return self._page()

    def post(self, request):
        try:
            refund_id = int(request.POST.get("refund", ""))
        except ValueError:
            messages.error(request, "Choose a refund to close.")
            return HttpResponseRedirect(request.path)
        form = RefundIssuedForm(request.POST, prefix=f"r{refund_id}")
        if not form.is_valid() or form.cleaned_data["refund_id"] != refund_id:
            return self._page({refund_id: form}, status=400)
        refund = get_object_or_404(Refund.objects.select_related("payment"), pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            messages.info(request, f"{refund} was already closed (refund check {refund.reference or '—'}).")
            return HttpResponseRedirect(request.path)
        try:
            refund = refund_mark_issued(refund_id=refund_id, reference=form.cleaned_data["reference"],
                                        actor=request.user)
        except PaymentError as exc:
            form.add_error("reference", exc.message)
            return self._page({refund_id: form}, status=400)
        except Busy:
            form.add_error(None, BUSY_MESSAGE)
            return self._page({refund_id: form}, status=503)
        messages.success(request, f"{refund} for {format_money(refund.amount)} closed with refund check "
                                  f"{refund.reference}; the patron is e-mailed.")
        return HttpResponseRedirect(request.path)


# --- the deposit report ---------------------------------------------------------------------------

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
            return _csv(f"deposits-{start}-{end}.csv", reports.deposit_csv_rows(report))
        if export == "items":
            return _csv(f"deposit-items-{start}-{end}.csv",
                        reports.deposit_item_rows(reports.deposit_items(start=start, end=end)))
        items = reports.deposit_items(start=start, end=end)
        days = _range_label(start, end)
        return self.render(self.template, f"Deposit report: {days}", form=form, report=report, items=items,
                           query=f"start={start.isoformat()}&end={end.isoformat()}")


def _range_label(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{start:%a, %b %-d, %Y}"
    return f"{start:%b %-d, %Y} – {end:%b %-d, %Y}"


def _csv(filename: str, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in rows:
        writer.writerow(row)
    return response


# --- donations to Pass the Buck (cash and check at the desk) ----------------------------------------

class DonationForm(forms.Form):
    """The input's shape; the amount and the check number are checked by the service (one set of
    rules with desk payments) and its errors are put on the field at fault."""

    first_name = forms.CharField(label="Donor's first name", max_length=NAME_MAX,
                                 error_messages={"required": "Enter the donor's first name."})
    last_name = forms.CharField(label="Donor's last name", max_length=NAME_MAX,
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
    reference = forms.CharField(label="Check number", required=False, max_length=REFERENCE_MAX,
                                help_text="Required for a check.")
    dedication = forms.CharField(label="Dedication (optional)", required=False, max_length=DEDICATION_MAX,
                                 help_text='For example "In honor of Ada Lopez".')
    anonymous = forms.BooleanField(label="Anonymous: never list this donor by name", required=False)


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
        messages.success(request, f"Donation {donation.receipt_number} of {_dollars(donation.amount)} recorded."
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
