"""The patron pages of registration: the cart, checkout, the order's confirmation, and the
password-free "My registrations" self-service reached by a signed link.

Views stay thin (ARCHITECTURE §2): bind a form, call one service, turn domain errors into
messages on the right field. A bad input is answered with a message and changes nothing; a lock
that cannot be had quickly (``core.locking.Busy``) is "busy, please try again", never a 500.
"""

import logging

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from classes.models import Course
from core.locking import Busy
from finance.selectors import refund_plan, registration_refund_note
from finance.services.scholarships import FundShort, checkout_place, checkout_wait_or_place

from . import link_throttle, selectors
from .access import manage_email, order_grant, order_opened
from .cart import Cart, catalog_courses_by_id
from .checkout_total import checkout_total
from .forms import CheckoutForm, CourseChoiceForm, LinkRequestForm, form_error_summary
from .link_views import link_invalid, order_closed
from .messages import queue_manage_link
from .models import EnrollmentOptions, Order, Registration
from .services import (
    AttendeeInput,
    BuyerInput,
    DuplicateCheckout,
    EnrollmentError,
    registration_cancel,
    registrations_confirm_paid,
)
from .services.seats import course_check_open

logger = logging.getLogger(__name__)

S = Registration.Status
BUSY = "The system is busy, please try again in a moment."
LINK_SENT = (
    "If we have registrations for that address, we’ve sent a link to it. "
    "It can take a few minutes to arrive; check your spam folder too."
)

private = method_decorator(never_cache, name="dispatch")


def _pay_url(order: Order) -> str:
    return reverse("finance:pay", args=[order.pk])


def _confirmation_url(order: Order) -> str:
    return reverse("enrollment:order-confirmation", args=[order.pk])


def _to_order(request, order: Order, url: str):
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

@private
class CheckoutView(View):
    """Buyer, "How did you hear about us?", and the attendees of every class in the cart, placed
    with one call to ``finance.services.scholarships.checkout_place`` (the seat service's
    ``order_place`` plus the Pass the Buck scholarships asked for, in one transaction). See
    ``enrollment.cart`` for the one-time nonce."""

    template_name = "enrollment/checkout.html"

    def _render(self, request, checkout: CheckoutForm, cart: Cart, *, status: int = 200, fund_short: str = "",
                busy: bool = False):
        totals = checkout_total(checkout)
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
        return self._render(request, CheckoutForm(None, courses=courses, cart_ids=cart.ids, scholarships=offer), cart)

    def post(self, request):
        now = timezone.now()
        cart = Cart(request.session)
        nonce = request.POST.get("nonce", "")
        placed = cart.placed_order_token(nonce)
        if placed:
            return self._replayed(request, placed, now=now)
        courses, _dropped = cart.courses(now=now)
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
        checkout = CheckoutForm(data, courses=courses, cart_ids=cart.ids, rebuild=rebuild, scholarships=offer)
        if not rebuild and checkout.count_changed:
            checkout = CheckoutForm(data, courses=courses, cart_ids=cart.ids, rebuild=True, scholarships=offer)
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
            checkout.attach_error(exc)
            return self._render(request, checkout, cart, fund_short=exc.message)
        except EnrollmentError as exc:
            checkout.attach_error(exc)
            return self._render(request, checkout, cart)
        except Busy:
            return self._busy(request, checkout, cart)

        cart.checkout_done(nonce=nonce, order_token=result.order.token)
        if result.amount_due > 0:
            return _to_order(request, result.order, _pay_url(result.order))
        return _to_order(request, result.order, _confirmation_url(result.order))

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
            return _to_order(request, result.order, _pay_url(result.order))
        return _to_order(request, result.order, _confirmation_url(result.order))

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
            return _to_order(request, order, _pay_url(order))
        return _to_order(request, order, _confirmation_url(order))


def _status_line(registration: Registration, *, now) -> str:
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
            .prefetch_related("course__meetings__venue", "fund_entries").order_by("pk")
        )
        for r in registrations:
            r.status_line = _status_line(r, now=now)
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
            "pay_url": _pay_url(order) if due else "",
        })


# --- "My registrations" ----------------------------------------------------------------------

class ManageLinkRequestView(View):
    """Enter an e-mail address to get a fresh "My registrations" link. The answer is the same
    whether or not the address has registrations, so addresses cannot be probed."""

    template_name = "enrollment/link_request.html"

    def get(self, request):
        return render(request, self.template_name, {"form": LinkRequestForm()})

    def post(self, request):
        form = LinkRequestForm(request.POST)
        if not link_throttle.client_allowed(request):  # one client, many asks: wait (whatever the address)
            return render(request, self.template_name, {"form": form, "throttled": True}, status=429)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "errors": form_error_summary(form)})
        email = form.cleaned_data["email"]
        if link_throttle.address_allowed(email) and selectors.registrations_for_email(email).exists():
            with transaction.atomic():
                queue_manage_link(email)
        messages.success(request, LINK_SENT)
        return redirect("enrollment:manage-link-request")


class _TokenMixin:
    """The e-mail address whose registrations this session may see: granted when the patron
    followed their "My registrations" link (``enrollment.link_views``). Without it (another
    browser, or the grant ran out): the page that says to follow the link again or get a new one."""

    def dispatch(self, request, *args, **kwargs):
        self.email = manage_email(request, max_age_days=EnrollmentOptions.current().link_days)
        if self.email is None:
            return link_invalid(request, timed_out=True)
        return super().dispatch(request, *args, **kwargs)

    def registration(self, pk: int) -> Registration:
        """One of this address's registrations, or 404 (someone else's is not found here)."""
        registration = selectors.registrations_for_email(self.email).filter(pk=pk).first()
        if registration is None:
            raise Http404("No such registration.")
        return registration

    def back(self):
        return redirect("enrollment:my-registrations")


def _can_cancel(registration: Registration, *, now) -> bool:
    """Whether to offer "Cancel" (or "Leave the waitlist"): an active registration of a class
    that has not ended."""
    if registration.status not in Registration.ACTIVE:
        return False
    if registration.course.status not in (Course.Status.OPEN, Course.Status.RUNNING):
        return False
    meetings = registration.course.ordered_meetings()
    return not meetings or meetings[-1].ends_at > now


@private
class MyRegistrationsView(_TokenMixin, View):
    def get(self, request):
        now = timezone.now()
        current, past = [], []
        for r in selectors.registrations_for_email(self.email):
            meetings = r.course.ordered_meetings()
            r.first_meeting = meetings[0] if meetings else None
            r.last_meeting = meetings[-1] if meetings else None
            r.status_line = _status_line(r, now=now)
            r.can_cancel = _can_cancel(r, now=now)
            r.can_claim = r.status == S.OFFERED and r.expires_at > now
            r.awaiting_payment = r.status == S.HELD and r.expires_at > now
            # How each refund comes back is finance's to say (it knows the payments).
            r.refund_note = registration_refund_note(r) if r.status == S.CANCELLED else None
            ended = r.last_meeting is not None and r.last_meeting.ends_at <= now
            (current if r.status in Registration.ACTIVE and not ended else past).append(r)
        return render(request, "enrollment/my_registrations.html", {
            "email": self.email, "current": current, "past": past,
        })


def _refund_preview(registration: Registration, *, now):
    """What the refund policy would give if this registration were cancelled now (the same rule
    as ``selectors.refund_due``, asked of an unsaved copy)."""
    preview = Registration(
        course=registration.course, status=S.CANCELLED, price=registration.price,
        confirmed_at=registration.confirmed_at, cancelled_at=now,
    )
    preview.award_of = registration  # its Pass the Buck award, if any, is the real one's
    return selectors.refund_due(preview)


@private
class RegistrationCancelView(_TokenMixin, View):
    """GET: what cancelling means (the refund per policy); POST: cancel, then settle the refund."""

    def get(self, request, pk):
        now = timezone.now()
        registration = self.registration(pk)
        if not _can_cancel(registration, now=now):
            messages.info(request, "This registration can no longer be cancelled online.")
            return self.back()
        return render(request, "enrollment/cancel_confirm.html", {
            "registration": registration,
            "refunds": refund_plan(registration, due=_refund_preview(registration, now=now)),
            "closes_at": registration.course.registration_closes_at,
            "past_cutoff": registration.course.is_past_cutoff(now),
        })

    def post(self, request, pk):
        now = timezone.now()
        registration = self.registration(pk)
        title = registration.course.title
        if registration.status == S.CANCELLED:
            messages.info(request, f"Your registration for “{title}” was already cancelled.")
            return self.back()
        if not _can_cancel(registration, now=now):
            messages.error(request, "This registration can no longer be cancelled online.")
            return self.back()
        was = registration.status
        try:
            registration = registration_cancel(registration_id=registration.pk, actor_label="patron", now=now)
        except EnrollmentError as exc:
            messages.error(request, exc.message)
            return self.back()
        except Busy:
            messages.error(request, BUSY)
            return self.back()
        self._settle_refund(registration)
        if was == S.WAITLISTED:
            messages.success(request, f"You left the waitlist for “{title}”.")
        else:
            refunds = registration_refund_note(registration, cause="cancel")
            note = f" Your refund: {refunds.sentence}" if refunds else ""
            messages.success(request, f"Your registration for “{title}” is cancelled.{note}")
        return self.back()

    @staticmethod
    def _settle_refund(registration: Registration) -> None:
        """Money follows facts (ARCHITECTURE §2): finance settles what the cancellation owes.
        The cancellation is already committed, so a failure here must not undo it or show an
        error page: finance's periodic sweep settles anything missed."""
        from finance.services import refunds_settle

        try:
            refunds_settle(registration_id=registration.pk, reason="cancelled by the patron online")
        except Exception:
            logger.exception("refund settlement after cancelling registration %s failed; the sweep will retry",
                             registration.pk)


@private
class OfferClaimView(_TokenMixin, View):
    """A seat offered from the waitlist: GET explains, POST goes to payment (a free seat is
    confirmed at once)."""

    def _offer(self, pk: int, *, now) -> Registration | None:
        registration = self.registration(pk)
        if registration.status == S.OFFERED and registration.expires_at > now:
            return registration
        if registration.status == S.CONFIRMED:
            messages.info(self.request, f"Your seat in “{registration.course.title}” is already confirmed.")
        elif registration.status in (S.OFFERED, S.EXPIRED):
            messages.error(self.request, f"The seat offered in “{registration.course.title}” was not claimed in "
                                         "time and has gone to the next person on the waitlist.")
        else:
            messages.error(self.request, "There is no seat waiting for you to claim here.")
        return None

    def get(self, request, pk):
        registration = self._offer(pk, now=timezone.now())
        if registration is None:
            return self.back()
        return render(request, "enrollment/claim.html", {"registration": registration})

    def post(self, request, pk):
        now = timezone.now()
        registration = self._offer(pk, now=now)
        if registration is None:
            return self.back()
        if registration.price > 0:
            return _to_order(request, registration.order, _pay_url(registration.order))
        try:
            registrations_confirm_paid(registration_ids=[registration.pk], now=now, actor_label="patron",
                                       reason="claimed a free seat from the waitlist")
        except (EnrollmentError, Busy) as exc:
            messages.error(request, exc.message if isinstance(exc, EnrollmentError) else BUSY)
            return self.back()
        messages.success(request, f"Your seat in “{registration.course.title}” is confirmed.")
        return self.back()
