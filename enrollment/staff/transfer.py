"""The transfer page of the back office (/staff/money/registrations/<id>/transfer/, routed by
``finance.staff.urls``): move a confirmed registration to another class.

Staff pick the target class (each choice shows its fee, the price difference against what was
paid, and whether it has a seat); the seat moves through the seat service
(``enrollment.services.registration_transfer``, which writes the audit rows) and the money right
after through ``finance.services.staff.transfer_settle`` (a cheaper class: the difference is
refunded; a dearer one: the order shows a balance due). The figures are finance's reads
(``finance.selectors.transfer_difference``, ``finance.balances.balance_text``); the classes offered are
``enrollment.selectors.desk.transfer_targets``. A full or closed target needs an override
reason, and ``enrollment.override_rules``. The page needs ``enrollment.transfer_registration``
(403 without it); it is wrapped in ``admin.site.admin_view`` (anonymous → the back-office login).
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View

from classes.models import Course
from core.locking import Busy
from core.money import format_money
from finance import selectors as finance_selectors
from finance.balances import balance_text, order_balance
from finance.models import Payment
from finance.services.staff import transfer_settle

from ..models import Registration
from ..selectors.desk import transfer_targets
from ..services import (
    CourseFull,
    CourseNotOpen,
    EnrollmentError,
    InvalidTransition,
    RegistrationClosed,
    registration_transfer,
)
from .forms.transfer import TransferForm

TRANSFER = "enrollment.transfer_registration"
OVERRIDE = "enrollment.override_rules"
BUSY_MESSAGE = "Someone else is working on these classes right now. Please try again in a moment."
S = Registration.Status


def _dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


def paid_net(registration: Registration) -> Decimal:
    """What the registration has paid, less what was refunded for it."""
    return finance_selectors.registration_paid(registration) - finance_selectors.registration_refunded(registration)


def target_note(course: Course, *, paid: Decimal, now) -> dict:
    """What staff see about one target: its fee, the difference, and whether it takes a seat now."""
    difference = finance_selectors.transfer_difference(course, paid=paid)
    if difference > 0:
        money = f"{_dollars(difference)} more due"
    elif difference < 0:
        money = f"refund {_dollars(-difference)}"
    else:
        money = "no difference"
    if course.status not in Course.TAKES_REGISTRATIONS:
        seat = f"{course.get_status_display().lower()}: needs an override"
    elif course.registration_closes_at is None:
        seat = "no meetings yet: needs an override"
    elif course.is_past_cutoff(now):
        seat = "registration closed: needs an override"
    elif course.seats_left <= 0:
        seat = "full: needs an override"
    else:
        seat = f"{course.seats_left} seat{'' if course.seats_left == 1 else 's'} left"
    return {"course": course, "difference": difference, "money": money, "seat": seat,
            "needs_override": not seat.endswith("left")}


class RegistrationTransferView(View):
    template = "staff/transfer/transfer_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(TRANSFER):
            raise PermissionDenied
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def _setup(self, pk):
        self.registration = get_object_or_404(
            Registration.objects.select_related("course", "course__semester", "order"), pk=pk
        )
        self.now = timezone.now()
        self.paid = paid_net(self.registration)
        self.targets = transfer_targets(self.registration, now=self.now)
        self.notes = [target_note(c, paid=self.paid, now=self.now) for c in self.targets]
        self.can_override = self.request.user.has_perm(OVERRIDE)

    def _form(self, data=None) -> TransferForm:
        labels = {n["course"].pk: f"{n['course'].title} ({n['course'].semester}) — {format_money(n['course'].fee)}, "
                                  f"{n['money']}; {n['seat']}" for n in self.notes}
        return TransferForm(data, targets=self.targets, labels=labels, can_override=self.can_override)

    def _page(self, form, status=200) -> TemplateResponse:
        registration = self.registration
        transferred_to = getattr(registration, "transferred_to", None) if registration.status == S.TRANSFERRED else None
        return TemplateResponse(self.request, self.template, {
            **admin.site.each_context(self.request),
            "title": f"Transfer: {registration.attendee_name} in {registration.course.title}",
            "subtitle": None,
            "registration": registration, "order": registration.order, "paid": self.paid,
            "balance": balance_text(order_balance(registration.order).due), "notes": self.notes, "form": form,
            "can_transfer": registration.status == S.CONFIRMED, "can_override": self.can_override,
            "transferred_to": transferred_to,
            "events": registration.events.select_related("actor").order_by("at", "pk"),
        }, status=status)

    def get(self, request, pk):
        self._setup(pk)
        return self._page(self._form())

    def post(self, request, pk):
        self._setup(pk)
        form = self._form(request.POST)
        if not form.is_valid():
            return self._page(form, status=400)
        data = form.cleaned_data
        override = data.get("override_reason", "") if self.can_override else ""
        try:
            old, new = registration_transfer(
                registration_id=self.registration.pk, to_course_id=data["to_course"].pk, actor=request.user,
                actor_label=request.user.get_username(), reason=data["reason"], override_reason=override,
            )
        except (CourseFull, RegistrationClosed, CourseNotOpen) as exc:
            message = exc.message
            if not override:  # a full, closed or running class takes a transfer with an override
                message += (" To transfer anyway, give an override reason." if self.can_override
                            else " Only staff allowed to override the registration rules can transfer into it.")
            form.add_error("to_course", message)
            return self._page(form, status=400)
        except InvalidTransition as exc:
            self.registration.refresh_from_db()
            if self.registration.status == S.TRANSFERRED:
                messages.info(request, "This registration was already transferred.")
                return HttpResponseRedirect(request.path)
            form.add_error(None, exc.message)
            return self._page(form, status=400)
        except EnrollmentError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self._page(form, status=400)
        except Busy:
            form.add_error(None, BUSY_MESSAGE)
            return self._page(form, status=503)
        messages.success(request, f"{new.attendee_name} is transferred to “{new.course}” ({format_money(new.price)}).")
        self._settle(old, new)
        return HttpResponseRedirect(reverse("money:registration-transfer", args=[new.pk]))

    def _settle(self, old: Registration, new: Registration) -> None:
        request = self.request
        try:
            refunds = transfer_settle(old=old, new=new, actor=request.user)
        except Busy:
            messages.warning(request, "The price difference could not be settled just now; it is settled "
                                      "automatically within a few minutes.")
            return
        for refund in refunds:
            refund.refresh_from_db()
            how = "to the card" if refund.payment.provider == Payment.Provider.CARD else (
                f"to issue by {refund.payment.get_provider_display().lower()} refund (“Refunds to issue”)")
            messages.info(request, f"The difference is refunded: {_dollars(refund.amount)} {how}.")
        due = order_balance(new.order).due
        if due > 0:
            messages.warning(request, f"The order now has a balance due of {_dollars(due)}: take the payment at the "
                                      "desk.")
