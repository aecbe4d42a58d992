"""The refund pages of the back office, under /staff/money/ (``finance.staff.urls``):

- a refund for a registration (``finance.issue_refund``; outside the policy also
  ``finance.refund_outside_policy``),
- the cash and check refunds still to issue, each closed with its refund check number
  (``finance.issue_refund``).

Thin, like every money page: the permission, a form, one service, the domain error as a message
on its field. Every view is wrapped in ``admin.site.admin_view`` (anonymous → the back-office
login) and answers 403 to staff without its permission.
"""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from core.locking import Busy
from core.money import format_money
from enrollment.models import Registration

from .. import selectors
from ..balances import balance_text, order_balance
from ..errors import PaymentError
from ..models import Payment, Refund
from ..services import refund_mark_issued
from ..services.staff import DuplicateRefund, RefundRefused, refund_create, refund_limits
from .base import BUSY_MESSAGE, ISSUE_REFUND, OUTSIDE_POLICY, MoneyView, dollars
from .forms import RefundForm, RefundIssuedForm


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
                    f"The refund policy allows at most {dollars(limits.within_policy)} for this registration. "
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
