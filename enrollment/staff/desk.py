"""The front desk in the back office (/staff/desk/): registrations taken by phone, walk-in or the
drop box, paid by cash or check — in full, in part, or later.

- find a patron among previous orders (name, e-mail or phone), or start with a new one;
- register: classes and attendees, the money taken, an override (after the cutoff or over
  capacity, with a reason) for staff allowed to; one call to ``finance.services.offline.desk_register``
  (the same seat service as online checkout; a refused payment leaves no registration behind);
- the order's desk page: attendees, classes, total, paid, balance due, payments (method, check
  number, who took it, when); a further payment; the printable receipt; the receipt by e-mail.

Every view is wrapped in ``admin.site.admin_view`` (``enrollment.staff.urls.desk``): staff only, anyone
else goes to the back-office login. Registering needs ``enrollment.desk_register``; recording money
``finance.take_offline_payment``; overriding ``enrollment.override_rules``; staff without the
permission get 403. Views stay thin: bind a form (given finance's payment methods and limits), call
one service, put the service's message on the field it concerns. A lock that cannot be had quickly
is "busy, please try again" (503). The reads (the classes offered, the patron search) are
``enrollment.selectors.desk``'s.
"""

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View

from core.locking import Busy
from finance.errors import PaymentError
from finance.models import Payment
from finance.services.offline import (
    PAYER_MAX,
    REFERENCE_MAX,
    OfflinePaymentInvalid,
    desk_receipt_queue,
    desk_register,
    order_receipt,
    payment_record_offline,
    registrations_chargeable,
)
from finance.templatetags.money_privacy import may_see_scholarships

from ..models import Order
from ..selectors.desk import SEARCH_PATRONS, desk_courses, patron_search
from ..services import (
    AttendeeInput,
    BuyerInput,
    CourseFull,
    CourseNotOpen,
    DuplicateCheckout,
    EnrollmentError,
    RegistrationClosed,
)
from .forms.desk import DeskCourses, OfflineMethods, OrderPaymentForm, PatronSearchForm
from .forms.desk_registration import DeskRegistrationForm

log = logging.getLogger(__name__)

DESK_REGISTER = "enrollment.desk_register"
OVERRIDE = "enrollment.override_rules"
TAKE_PAYMENT = "finance.take_offline_payment"
BUSY = "The system is busy, please try again in a moment."

#: The desk's payment methods and the limits of a check number and payer: finance's.
METHODS = OfflineMethods(cash=Payment.Provider.CASH, check=Payment.Provider.CHECK, reference_max=REFERENCE_MAX,
                         payer_max=PAYER_MAX)


def _buyer_initial(order: Order) -> dict:
    return {
        "first_name": order.first_name, "last_name": order.last_name, "email": order.email, "phone": order.phone,
        "street_address": order.street_address, "city_state_zip": order.city_state_zip,
        "mail_catalog": order.mail_catalog, "referral": order.referral_id,
    }


def _posted_courses(data) -> set[int]:
    """The class ids a posted desk form's rows chose (the form checks each one)."""
    if data is None:
        return set()
    ids = set()
    for key, value in data.items():
        if key.startswith("row") and key.endswith("-course") and value.strip().isdigit() and len(value.strip()) < 19:
            ids.add(int(value))
    return ids


# --- views ---------------------------------------------------------------------------------

class DeskView(View):
    """A front-desk page: staff with any of ``permissions`` (403 otherwise)."""

    permissions: tuple[str, ...] = (DESK_REGISTER,)

    def dispatch(self, request, *args, **kwargs):
        if not any(request.user.has_perm(p) for p in self.permissions):
            raise PermissionDenied
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def render(self, template: str, title: str, *, status: int = 200, **context) -> TemplateResponse:
        user = self.request.user
        response = TemplateResponse(self.request, template, {
            **admin.site.each_context(self.request),
            "title": title,
            "subtitle": None,
            "can_register": user.has_perm(DESK_REGISTER),
            "can_take_payment": user.has_perm(TAKE_PAYMENT),
            "can_override": user.has_perm(OVERRIDE),
            **context,
        }, status=status)
        if status == 503:
            response["Retry-After"] = "5"
        return response


def _order_url(order: Order) -> str:
    return reverse("desk:order", args=[order.pk])


class DeskHomeView(DeskView):
    """Find a patron among previous orders; start a registration for them or a new patron."""

    permissions = (DESK_REGISTER, TAKE_PAYMENT)

    def get(self, request):
        form = PatronSearchForm(request.GET if "q" in request.GET else None)
        patrons = patron_search(form.cleaned_data["q"]) if form.is_bound and form.is_valid() else None
        return self.render("staff/desk/home.html", "Front desk", form=form, patrons=patrons,
                           search_limit=SEARCH_PATRONS)


class DeskRegisterView(DeskView):
    """Register at the desk: the patron, the attendees and their classes, the money taken."""

    permissions = (DESK_REGISTER,)

    def _form(self, data=None, *, rebuild=False, initial_buyer=None) -> DeskRegistrationForm:
        user = self.request.user
        now = timezone.now()
        # A post looks up only the classes its rows chose; the whole list is read if the page is shown.
        courses = DeskCourses(now=now, load=lambda ids: desk_courses(now=now, ids=ids), wanted=_posted_courses(data))
        return DeskRegistrationForm(
            data, courses=courses, can_override=user.has_perm(OVERRIDE),
            methods=METHODS,
            can_take_money=user.has_perm(TAKE_PAYMENT), initial_buyer=initial_buyer, rebuild=rebuild,
            can_grant=user.has_perm("finance.grant_scholarship"),
        )

    def _page(self, desk: DeskRegistrationForm, *, status=200, patron_order=None):
        return self.render("staff/desk/register.html", "Register at the desk", status=status, desk=desk,
                           errors=desk.error_summary(), patron_order=patron_order)

    def get(self, request):
        initial, patron_order = None, None
        raw = request.GET.get("patron", "")
        if raw.isdigit() and len(raw) < 19:
            patron_order = Order.objects.filter(pk=int(raw)).first()
            if patron_order is not None:
                initial = _buyer_initial(patron_order)
        return self._page(self._form(initial_buyer=initial), patron_order=patron_order)

    def post(self, request):
        if request.POST.get("action") == "more":
            return self._page(self._form(request.POST, rebuild=True))
        desk = self._form(request.POST)
        if not desk.is_valid():
            return self._page(desk)
        buyer = desk.buyer.cleaned_data
        referral = buyer.get("referral")
        try:
            result = desk_register(
                buyer=BuyerInput(
                    first_name=buyer["first_name"], last_name=buyer["last_name"], email=buyer["email"],
                    phone=buyer["phone"], street_address=buyer["street_address"],
                    city_state_zip=buyer["city_state_zip"], mail_catalog=buyer["mail_catalog"],
                    referral_id=referral.pk if referral else None,
                ),
                attendees=[
                    AttendeeInput(
                        course_id=row.cleaned_data["course"].pk, first_name=row.cleaned_data["first_name"],
                        last_name=row.cleaned_data["last_name"], age=row.cleaned_data.get("age"),
                        relationship=row.cleaned_data["relationship"],
                        scholarship=bool(row.cleaned_data.get("scholarship")),
                    )
                    for row in desk.filled_rows()
                ],
                amount=desk.amount, actor=request.user, override_reason=desk.override_reason,
                checkout_key=f"desk:{desk.nonce}", **desk.payment_data(),
            )
        except DuplicateCheckout as exc:
            order = Order.objects.filter(token=exc.order_token).first()
            if order is None:  # pragma: no cover - the other submission's order is always there
                desk.add_error("This form was already submitted.")
                return self._page(desk)
            messages.info(request, f"This registration was already saved as order {order.reference}; "
                                   "it was not saved again.")
            return HttpResponseRedirect(_order_url(order))
        except EnrollmentError as exc:
            _enrollment_error(desk, exc)
            return self._page(desk)
        except PaymentError as exc:
            field = exc.field if isinstance(exc, OfflinePaymentInvalid) else None
            desk.attach_payment_error(exc.message, field=field)
            return self._page(desk)
        except Busy:
            desk.add_error(BUSY)
            return self._page(desk, status=503)
        order = result.order
        seats = len(result.registrations)
        text = f"Registered: order {order.reference}, {seats} seat{'s' if seats != 1 else ''}."
        if result.payment is not None:
            text += f" {result.payment.get_provider_display()} taken: ${result.payment.amount:,.2f}."
        if result.balance.due > 0:
            text += f" Balance due: ${result.balance.due:,.2f}."
        messages.success(request, text)
        return HttpResponseRedirect(_order_url(order))


def _enrollment_error(desk: DeskRegistrationForm, exc: EnrollmentError) -> None:
    """The seat service's message on the row it names, saying whether an override lets it through."""
    message = exc.message
    overridable = isinstance(exc, CourseFull | RegistrationClosed) or (
        isinstance(exc, CourseNotOpen) and "cancelled" not in message and "not in the catalog" not in message
    )
    if isinstance(exc, CourseFull):
        message = message.replace(" You can join its waitlist.", "")
    desk.attach_row_error(message, index=exc.index, field=exc.field, overridable=overridable)


class _OrderView(DeskView):
    permissions = (DESK_REGISTER, TAKE_PAYMENT)

    def order(self, pk: int) -> Order:
        return get_object_or_404(Order, pk=pk)

    def order_page(self, order: Order, *, pay_form: OrderPaymentForm | None = None, status: int = 200):
        receipt = order_receipt(order, split=may_see_scholarships(self.request.user))
        if pay_form is None and receipt.balance.due > 0:
            pay_form = OrderPaymentForm(prefix="pay", methods=METHODS,
                                        initial={"amount": f"{receipt.balance.due:.2f}"})
        return self.render("staff/desk/order.html", f"Order {order.reference}", status=status, order=order,
                           receipt=receipt, pay_form=pay_form, pay_errors=_errors(pay_form))


def _errors(form) -> list[tuple[str, str]]:
    if form is None or not form.is_bound:
        return []
    return [(f"{form[name].label}: {error}" if name in form.fields else str(error),
             f"#{form[name].auto_id}" if name in form.fields else "")
            for name, errors in form.errors.items() for error in errors]


class DeskOrderView(_OrderView):
    """The order's desk page (the receipt view): attendees, classes, total, paid, balance due,
    payments; print or e-mail the receipt; take a further payment."""

    def get(self, request, pk):
        return self.order_page(self.order(pk))


class DeskOrderPayView(_OrderView):
    """A further payment on an order (partial payments: the balance due goes down; never more
    than is due)."""

    permissions = (TAKE_PAYMENT,)

    def get(self, request, pk):
        return HttpResponseRedirect(_order_url(self.order(pk)))

    def post(self, request, pk):
        order = self.order(pk)
        form = OrderPaymentForm(request.POST, prefix="pay", methods=METHODS)
        if not form.is_valid():
            return self.order_page(order, pay_form=form)
        data = form.cleaned_data
        payer = data["payer"]
        if data["provider"] == Payment.Provider.CHECK and not payer:
            payer = order.buyer_name  # a check without a payer: the patron wrote it
        try:
            payment = payment_record_offline(
                order=order, registrations=registrations_chargeable(order), provider=data["provider"],
                amount=data["amount"], reference=data["reference"], payer=payer,
                taken_by=request.user,
            )
        except PaymentError as exc:
            name = getattr(exc, "field", None)
            form.add_error(name if name in form.fields else None, exc.message)
            return self.order_page(order, pay_form=form)
        except Busy:
            form.add_error(None, BUSY)
            return self.order_page(order, pay_form=form, status=503)
        messages.success(request, f"{payment.get_provider_display()} payment of ${payment.amount:,.2f} recorded.")
        return HttpResponseRedirect(_order_url(order))


class DeskReceiptView(_OrderView):
    """The printable receipt: the library's name and address, the order, items, payments, balance."""

    def get(self, request, pk):
        order = self.order(pk)
        return self.render("staff/desk/receipt.html", f"Receipt — order {order.reference}", order=order,
                           receipt=order_receipt(order, split=may_see_scholarships(request.user)))


class DeskReceiptEmailView(_OrderView):
    """Queue the receipt e-mail (once per number of payments; only with an e-mail address)."""

    def get(self, request, pk):
        return HttpResponseRedirect(_order_url(self.order(pk)))

    def post(self, request, pk):
        order = self.order(pk)
        if not order.email:
            messages.error(request, "This order has no e-mail address. Print the receipt instead.")
            return HttpResponseRedirect(_order_url(order))
        message = desk_receipt_queue(order=order, actor=request.user)
        if message is None:
            messages.info(request, f"The receipt for these payments was already e-mailed to {order.email}.")
        else:
            messages.success(request, f"The receipt is on its way to {order.email}.")
        return HttpResponseRedirect(_order_url(order))
