""""My registrations": the password-free self-service a patron reaches by following their signed
link (``enrollment.views.links`` trades it for a session grant) — the list, cancelling before the
cutoff, claiming a waitlist offer — and the page that e-mails a fresh link.
"""

import logging

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from classes.models import Course
from core.locking import Busy
from finance.selectors import refund_plan, registration_refund_note

from .. import link_throttle, selectors
from ..access import manage_email
from ..forms import form_error_summary
from ..messages import queue_manage_link
from ..models import EnrollmentOptions, Registration
from ..services import (
    EnrollmentError,
    registration_cancel,
    registrations_confirm_paid,
)
from .checkout import BUSY, pay_url, private, status_line, to_order
from .forms import LinkRequestForm
from .links import link_invalid

LINK_SENT = (
    "If we have registrations for that address, we’ve sent a link to it. "
    "It can take a few minutes to arrive; check your spam folder too."
)

logger = logging.getLogger(__name__)
S = Registration.Status



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
    followed their "My registrations" link (``enrollment.views.links``). Without it (another
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
            r.status_line = status_line(r, now=now)
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
        # its Pass the Buck award, if any, is the real one's
        fund_paid=registration.fund_paid, fund_returned=registration.fund_returned,
    )
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
            return to_order(request, registration.order, pay_url(registration.order))
        try:
            registrations_confirm_paid(registration_ids=[registration.pk], now=now, actor_label="patron",
                                       reason="claimed a free seat from the waitlist")
        except (EnrollmentError, Busy) as exc:
            messages.error(request, exc.message if isinstance(exc, EnrollmentError) else BUSY)
            return self.back()
        messages.success(request, f"Your seat in “{registration.course.title}” is confirmed.")
        return self.back()
