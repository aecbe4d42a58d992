"""The patron pages of registration: the cart, checkout and the order's confirmation (the
password-free "My registrations" self-service reached by a signed link.

Views stay thin (ARCHITECTURE §2): bind a form, call one service, turn domain errors into
messages on the right field. A bad input is answered with a message and changes nothing; a lock
that cannot be had quickly (``core.locking.Busy``) is "busy, please try again", never a 500.
"""

import logging

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from classes.models import Course
from core.locking import Busy
from finance.pricing import scholarship_patron_price
from finance.services.checkout import FundShort, checkout_place, checkout_wait_or_place

from .. import selectors
from ..access import order_grant, order_opened
from ..cart import Cart, catalog_courses_by_id
from ..models import EnrollmentOptions, Order, Registration
from ..services import (
    AttendeeInput,
    BuyerInput,
    CourseFull,
    DuplicateCheckout,
    EnrollmentError,
)
from ..services.seats import course_check_open
from .checkout_total import checkout_total
from .forms import CourseChoiceForm
from .forms.checkout import CheckoutForm
from .links import order_closed

logger = logging.getLogger(__name__)

S = Registration.Status
BUSY = "The system is busy, please try again in a moment."

private = method_decorator(never_cache, name="dispatch")


def pay_url(order: Order) -> str:
    return reverse("finance:pay", args=[order.pk])


def _confirmation_url(order: Order) -> str:
    return reverse("enrollment:order-confirmation", args=[order.pk])


def to_order(request, order: Order, url: str):
    """To one of ``order``'s pages, which this browser may now open (``enrollment.access``): the
    order's token never goes into a URL."""
    order_grant(request, order)
    return HttpResponseRedirect(url)


# --- the cart ------------------------------------------------------------------------------

class CartView(View):
    """The classes in the cart, with fee and seats left, and "Continue to checkout"."""

    def get(self, request):
        cart = Cart(request.session)
        courses, dropped = cart.courses(now=timezone.now())
        if dropped:
            messages.warning(request, "A class in your cart is no longer offered, so we took it out.")
        return render(request, "enrollment/cart.html", {
            "courses": courses,
            "can_checkout": bool(courses) and not any(c.problem for c in courses),
        })


class CartAddView(View):
    """Add a class (POST from the catalog's "Register" / "Join the waitlist" buttons)."""

    http_method_names = ["post"]

    def post(self, request):
        form = CourseChoiceForm(request.POST)
        if not form.is_valid():
            messages.error(request, form.error_text())
            return redirect("enrollment:cart")
        course = catalog_courses_by_id([form.cleaned_data["course"]]).first()
        if course is None:
            messages.error(request, "That class is not in the catalog.")
            return redirect("enrollment:cart")
        try:
            course_check_open(course, now=timezone.now())
        except EnrollmentError as exc:
            messages.error(request, exc.message)
            return redirect("enrollment:cart")
        cart = Cart(request.session)
        if course.pk in cart:
            messages.info(request, f"“{course.title}” is already in your cart.")
        elif not cart.add(course.pk):
            messages.error(request, "Your cart is full. Check out these classes first, then add more.")
        else:
            messages.success(request, f"“{course.title}” is in your cart.")
        return redirect("enrollment:cart")


class CartRemoveView(View):
    http_method_names = ["post"]

    def post(self, request):
        form = CourseChoiceForm(request.POST)
        if form.is_valid() and Cart(request.session).remove(form.cleaned_data["course"]):
            title = Course.objects.filter(pk=form.cleaned_data["course"]).values_list("title", flat=True).first()
            messages.success(request, f"“{title}” was removed from your cart." if title else "Removed from your cart.")
        else:
            messages.error(request, "That class is not in your cart.")
        return redirect("enrollment:cart")


# --- checkout ------------------------------------------------------------------------------

def halves(courses) -> dict:
    """What a seat of each course costs the patron with a Pass the Buck scholarship (finance's rule)."""
    return {course.pk: scholarship_patron_price(course.fee) for course in courses}


@private
class CheckoutView(View):
    """Buyer, "How did you hear about us?", and the attendees of every class in the cart, placed
    with one call to ``finance.services.checkout.checkout_place`` (the seat service's
    ``order_place`` plus the Pass the Buck scholarships asked for, in one transaction). See
    ``enrollment.cart`` for the one-time nonce."""

    template_name = "enrollment/checkout.html"

    def _render(self, request, checkout: CheckoutForm, cart: Cart, *, status: int = 200, fund_short: str = "",
                busy: bool = False):
        totals = checkout_total(checkout)
        # A post shown again: its courses were read without their meetings (one query for all here).
        prefetch_related_objects([block.course for block in checkout.blocks], "meetings")
        return render(request, self.template_name, {
            "fund_short": fund_short,
            "busy": busy,
            "checkout": checkout,
            "errors": checkout.error_summary(),
            "nonce": cart.nonce(),
            # What the seats still free will cost (scholarship seats at half; the waitlist is free).
            "total": totals.amount,
            "totals": totals,
        }, status=status)

    def _busy(self, request, checkout: CheckoutForm, cart: Cart):
        """A course row was locked too long: nothing was placed and the patron did nothing wrong.
        The page says so under its own heading, keeps the form, and drops notices left from
        earlier pages (such as "… is in your cart"), which would read as news here."""
        for _stale in messages.get_messages(request):
            pass
        response = self._render(request, checkout, cart, status=503, busy=True)
        response["Retry-After"] = "5"
        return response

    def get(self, request):
        cart = Cart(request.session)
        courses, dropped = cart.courses(now=timezone.now())
        if not courses:
            messages.info(request, "Your cart is empty. Choose a class first.")
            return redirect("enrollment:cart")
        if dropped:
            messages.warning(request, "A class in your cart is no longer offered, so we took it out.")
        offer = EnrollmentOptions.current().scholarship_limit > 0
        checkout = CheckoutForm(None, courses=courses, cart_ids=cart.ids, scholarships=offer, halves=halves(courses))
        return self._render(request, checkout, cart)

    def post(self, request):
        now = timezone.now()
        cart = Cart(request.session)
        nonce = request.POST.get("nonce", "")
        placed = cart.placed_order_token(nonce)
        if placed:
            return self._replayed(request, placed, now=now)
        # Only what the form checks (seats left, the first meeting's start): the seat service reads
        # the courses again under their locks; a page shown again reads their meetings then.
        courses, _dropped = cart.courses(now=now, meetings=False)
        if not courses:
            messages.info(request, "Your cart is empty. Choose a class first.")
            return redirect("enrollment:cart")

        action = request.POST.get("action")
        rebuild = action == "update"
        data = request.POST
        if action == "full_price":  # the fund could not cover it: the same order, at full price
            data = data.copy()
            for key in [k for k in data if k.endswith("-scholarship")]:
                del data[key]
        offer = EnrollmentOptions.current().scholarship_limit > 0
        prices = halves(courses)
        checkout = CheckoutForm(data, courses=courses, cart_ids=cart.ids, rebuild=rebuild, scholarships=offer,
                                halves=prices)
        if not rebuild and checkout.count_changed:
            checkout = CheckoutForm(data, courses=courses, cart_ids=cart.ids, rebuild=True, scholarships=offer,
                                    halves=prices)
            rebuild = True
        if rebuild:
            messages.info(request, "We updated the attendee forms. Fill them in, then continue.")
            return self._render(request, checkout, cart)
        if nonce != cart.nonce():
            checkout.add_error("This page was out of date. Please check your details and submit again.")
        if not checkout.is_valid():
            return self._render(request, checkout, cart)

        attendees = self._attendees(checkout)
        if action == "scholarship_wait" and any(a.scholarship for a in attendees):
            return self._scholarship_wait(request, checkout, cart, attendees, nonce=nonce, now=now)
        try:
            result = checkout_place(
                buyer=self._buyer(checkout), attendees=attendees,
                join_waitlist=checkout.join_waitlist, now=now, checkout_key=nonce,
            )
        except DuplicateCheckout as exc:
            return self._replayed(request, str(exc.order_token), now=now)
        except FundShort as exc:
            checkout.attach_error(exc.message, index=exc.index, field=exc.field)
            return self._render(request, checkout, cart, fund_short=exc.message)
        except EnrollmentError as exc:
            checkout.attach_error(exc.message, index=exc.index, field=exc.field, full=isinstance(exc, CourseFull))
            return self._render(request, checkout, cart)
        except Busy:
            return self._busy(request, checkout, cart)

        cart.checkout_done(nonce=nonce, order_token=result.order.token)
        if result.amount_due > 0:
            return to_order(request, result.order, pay_url(result.order))
        return to_order(request, result.order, _confirmation_url(result.order))

    def _scholarship_wait(self, request, checkout: CheckoutForm, cart: Cart, attendees, *, nonce: str, now):
        """"Join the scholarship waitlist": those who asked wait for the fund (nothing held or
        charged); anyone else in the order is registered as usual."""
        try:
            entries, result = checkout_wait_or_place(buyer=self._buyer(checkout), attendees=attendees, now=now,
                                                     join_waitlist=checkout.join_waitlist, checkout_key=nonce)
        except DuplicateCheckout as exc:
            return self._replayed(request, str(exc.order_token), now=now)
        except EnrollmentError as exc:
            checkout.add_error(exc.message)
            return self._render(request, checkout, cart)
        except Busy:
            return self._busy(request, checkout, cart)
        names = ", ".join(f"{e.attendee_first_name} {e.attendee_last_name}" for e in entries)
        messages.success(request, f"{names} {'is' if len(entries) == 1 else 'are'} on the Pass the Buck scholarship "
                                  "waitlist. We’ve e-mailed you; we’ll write again as soon as donations make a "
                                  "scholarship seat possible. Nothing has been charged for it.")
        if result is None:
            cart.checkout_done(nonce=nonce, order_token="")
            return redirect("classes:home")
        cart.checkout_done(nonce=nonce, order_token=result.order.token)
        if result.amount_due > 0:
            return to_order(request, result.order, pay_url(result.order))
        return to_order(request, result.order, _confirmation_url(result.order))

    @staticmethod
    def _buyer(checkout: CheckoutForm) -> BuyerInput:
        data = checkout.buyer.cleaned_data
        return BuyerInput(
            first_name=data["first_name"], last_name=data["last_name"], email=data["email"], phone=data["phone"],
            street_address=data["street_address"], city_state_zip=data["city_state_zip"],
            mail_catalog=data["mail_catalog"], referral_id=data["referral"].pk,
            gift_amount=checkout.gift.cleaned_data["amount"], gift_anonymous=checkout.gift.cleaned_data["anonymous"],
        )

    @staticmethod
    def _attendees(checkout: CheckoutForm) -> list[AttendeeInput]:
        return [
            AttendeeInput(
                course_id=block.course.pk, first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"], age=form.cleaned_data.get("age"),
                relationship=form.cleaned_data["relationship"], scholarship=checkout.asks_scholarship(form),
            )
            for block, form in checkout.attendee_rows()
        ]

    @staticmethod
    def _replayed(request, token: str, *, now):
        """The same checkout posted again (the back button, a double click): no second order;
        go where the first one went."""
        order = Order.objects.filter(token=token).first()
        if order is None:
            messages.error(request, "That checkout was already submitted. Please start again from your cart.")
            return redirect("enrollment:cart")
        messages.info(request, f"You already placed this order ({order.reference}); it was not placed again.")
        if order.registrations.filter(status=S.HELD, expires_at__gt=now).exists():
            return to_order(request, order, pay_url(order))
        return to_order(request, order, _confirmation_url(order))


def status_line(registration: Registration, *, now) -> str:
    """The status of a registration in the patron's words."""
    status = registration.status
    if status == S.CONFIRMED:
        return "Confirmed"
    if status == S.WAITLISTED:
        return f"On the waitlist, number {selectors.waitlist_position(registration)} in line"
    if status == S.HELD and registration.expires_at > now:
        return "Waiting for payment"
    if status == S.OFFERED and registration.expires_at > now:
        return "A seat is offered to you"
    if status in (S.HELD, S.OFFERED, S.EXPIRED):
        return "The seat hold ran out" if status != S.OFFERED else "The waitlist offer ran out"
    return registration.get_status_display()


@private
class OrderConfirmationView(View):
    """ "You're registered": this order only — its attendees, classes, statuses and what to know
    for the first meeting. Opened by the browser that placed the order or followed its link
    (``enrollment.access``; the token never in this URL); nothing beyond this order is shown (the "My registrations" link goes to the page that e-mails a fresh link)."""

    def get(self, request, pk):
        now = timezone.now()
        order = order_opened(request, pk)
        if order is None:
            return order_closed(request)
        registrations = list(
            order.registrations.select_related("course", "course__venue", "course__semester")
            .prefetch_related("course__meetings__venue").order_by("pk")
        )
        for r in registrations:
            r.status_line = status_line(r, now=now)
            r.awaiting_payment = r.status == S.HELD and r.expires_at > now
        # A class with a seat (held or confirmed) gets what to know for its first meeting and its
        # refund line; a class where the order is only on the waitlist gets its place in line
        # and what happens next — no fee, nothing paid, no refund deadline.
        seated = {r.course_id for r in registrations if r.status in (S.HELD, S.CONFIRMED)}
        courses = list({r.course_id: r.course for r in registrations if r.course_id in seated}.values())
        for course in courses:
            meetings = course.ordered_meetings()
            course.first_meeting = meetings[0] if meetings else None
        waiting = [r for r in registrations if r.status in (S.WAITLISTED, S.OFFERED) and r.course_id not in seated]
        for r in registrations:
            r.on_waitlist = r.status == S.WAITLISTED
        due = sum((r.patron_price for r in registrations if r.awaiting_payment), start=0)
        if due:
            headline = "Almost done: please pay to confirm"
        elif any(r.status == S.CONFIRMED for r in registrations):
            headline = "You’re registered"
        elif any(r.status in (S.WAITLISTED, S.OFFERED) for r in registrations):
            headline = "You’re on the waitlist"
        else:
            headline = "Your order"
        return render(request, "enrollment/confirmation.html", {
            "order": order,
            "registrations": registrations,
            "courses": courses,
            "waiting": waiting,
            "has_seat": bool(seated),
            "offer_hours": EnrollmentOptions.current().offer_hours if waiting else None,
            "headline": headline,
            "total_paid": sum((r.patron_price for r in registrations if r.status == S.CONFIRMED), start=0),
            # A gift added at checkout: paid with the seats (then it is a donation with a receipt),
            # or not charged because nothing was due.
            "gift": order.gift_amount if order.gift_amount > 0 else None,
            "gift_paid": order.gift_amount > 0 and order.payments.filter(status="succeeded", gift_amount__gt=0).exists(),
            "amount_due": due,
            "pay_url": pay_url(order) if due else "",
        })


# --- "My registrations" ----------------------------------------------------------------------


