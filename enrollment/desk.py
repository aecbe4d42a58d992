"""The front desk in the back office (/staff/desk/): registrations taken by phone, walk-in or the
drop box, paid by cash or check — in full, in part, or later.

- find a patron among previous orders (name, e-mail or phone), or start with a new one;
- register: classes and attendees, the money taken, an override (after the cutoff or over
  capacity, with a reason) for staff allowed to; one call to ``finance.services.offline.desk_register``
  (the same seat service as online checkout; a refused payment leaves no registration behind);
- the order's desk page: attendees, classes, total, paid, balance due, payments (method, check
  number, who took it, when); a further payment; the printable receipt; the receipt by e-mail.

Every view is wrapped in ``admin.site.admin_view`` (``enrollment.staff_urls``): staff only, anyone
else goes to the back-office login. Registering needs ``enrollment.desk_register``; recording money
``finance.take_offline_payment``; overriding ``enrollment.override_rules``; staff without the
permission get 403. Views stay thin: bind a form, call one service, put the service's message on
the field it concerns. A lock that cannot be had quickly is "busy, please try again" (503).
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View

from classes.models import Course
from classes.schedule import local
from core.locking import Busy
from finance.errors import PaymentError
from finance.models import Payment
from finance.services.offline import (
    desk_receipt_queue,
    desk_register,
    order_receipt,
    payment_record_offline,
    registrations_chargeable,
)
from finance.templatetags.money_privacy import may_see_scholarships

from .desk_forms import DeskCourses, DeskRegistrationForm, OrderPaymentForm, PatronSearchForm
from .models import Order, Registration
from .selectors import course_seats_annotate
from .services import AttendeeInput, BuyerInput, DuplicateCheckout, EnrollmentError

log = logging.getLogger(__name__)

DESK_REGISTER = "enrollment.desk_register"
OVERRIDE = "enrollment.override_rules"
TAKE_PAYMENT = "finance.take_offline_payment"
BUSY = "The system is busy, please try again in a moment."

#: Registrations read for a patron search (newest first), and patrons shown.
SEARCH_ROWS = 60
SEARCH_PATRONS = 12
LAST_REGISTRATIONS = 5


# --- reads ---------------------------------------------------------------------------------

def desk_courses(*, now: dt.datetime) -> DeskCourses:
    """The classes the desk registers for: open or running, in semesters not yet over, with seats
    left; soonest semester first, then by title. One query."""
    today = local(now).date()
    qs = (
        Course.objects.filter(status__in=[Course.Status.OPEN, Course.Status.RUNNING], semester__ends_on__gte=today)
        .select_related("semester").annotate(first_meeting_start=Min("meetings__starts_at"))
    )
    courses = course_seats_annotate(qs, now=now).order_by("semester__starts_on", "title", "pk")
    return DeskCourses(courses=list(courses), now=now)


@dataclass
class Patron:
    """A buyer found among previous orders, with their latest registrations (newest first)."""

    first_name: str
    last_name: str
    email: str
    phone: str
    street_address: str
    city_state_zip: str
    latest_order: Order
    registrations: list[Registration] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _patron_key(order: Order) -> str:
    """Orders of the same patron: the same e-mail address, or (without one) the same phone and name."""
    if order.email:
        return "e:" + order.email.strip().lower()
    if _digits(order.phone):
        return f"p:{_digits(order.phone)}:{order.last_name.strip().lower()}:{order.first_name.strip().lower()}"
    return f"o:{order.pk}"


def patron_search(query: str) -> list[Patron]:
    """Patrons whose previous orders match ``query``: an e-mail address (or part of one), a phone
    number (its digits, however it was typed), or words of the buyer's name. ONE query: the newest
    ``SEARCH_ROWS`` matching registrations with their order and class, grouped by patron here."""
    query = " ".join(query.split())
    digits = _digits(query)
    if "@" in query:
        condition = Q(order__email__icontains=query)
    elif len(digits) >= 4 and not re.search(r"[^\d\s().+\-]", query):
        condition = Q(order__phone__regex=r"\D*".join(digits))
    else:
        condition = Q()
        for word in query.split()[:6]:
            condition &= (Q(order__first_name__icontains=word) | Q(order__last_name__icontains=word)
                          | Q(order__email__icontains=word))
    rows = (
        Registration.objects.filter(condition)
        .select_related("order", "course", "course__semester")
        .order_by("-created_at", "-pk")[:SEARCH_ROWS]
    )
    patrons: dict[str, Patron] = {}
    for registration in rows:
        order = registration.order
        key = _patron_key(order)
        patron = patrons.get(key)
        if patron is None:
            if len(patrons) >= SEARCH_PATRONS:
                continue
            patron = patrons[key] = Patron(
                first_name=order.first_name, last_name=order.last_name, email=order.email, phone=order.phone,
                street_address=order.street_address, city_state_zip=order.city_state_zip, latest_order=order,
            )
        if len(patron.registrations) < LAST_REGISTRATIONS:
            patron.registrations.append(registration)
        if all(o.pk != order.pk for o in patron.orders):
            patron.orders.append(order)
    return list(patrons.values())


def _buyer_initial(order: Order) -> dict:
    return {
        "first_name": order.first_name, "last_name": order.last_name, "email": order.email, "phone": order.phone,
        "street_address": order.street_address, "city_state_zip": order.city_state_zip,
        "mail_catalog": order.mail_catalog, "referral": order.referral_id,
    }


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
        return DeskRegistrationForm(
            data, courses=desk_courses(now=timezone.now()), can_override=user.has_perm(OVERRIDE),
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
            desk.attach_enrollment_error(exc)
            return self._page(desk)
        except PaymentError as exc:
            desk.attach_payment_error(exc)
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


class _OrderView(DeskView):
    permissions = (DESK_REGISTER, TAKE_PAYMENT)

    def order(self, pk: int) -> Order:
        return get_object_or_404(Order, pk=pk)

    def order_page(self, order: Order, *, pay_form: OrderPaymentForm | None = None, status: int = 200):
        receipt = order_receipt(order, split=may_see_scholarships(self.request.user))
        if pay_form is None and receipt.balance.due > 0:
            pay_form = OrderPaymentForm(prefix="pay", initial={"amount": f"{receipt.balance.due:.2f}"})
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
        form = OrderPaymentForm(request.POST, prefix="pay")
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
