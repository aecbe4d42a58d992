"""The scholarship waitlist's offers: as donations arrive, the oldest request whose half the fund
now covers gets a seat held with its award made — placed through the checkout
(``finance.services.checkout.checkout_place``), so it sits above both the checkout and
``finance.services.scholarships``. Run after a donation (a Celery task) and by the periodic
returns sweep.
"""

import datetime as dt
import logging

from django.utils import timezone

from core.locking import locked_atomic
from enrollment import messages as enrollment_messages
from enrollment.models import EnrollmentOptions, ScholarshipWait
from enrollment.services import AttendeeInput, BuyerInput, EnrollmentError

from .checkout import checkout_place
from .fund import fund_balance
from .scholarships import FundShort, scholarship_amount, scholarship_wait_close

log = logging.getLogger(__name__)

W = ScholarshipWait.Status


def scholarship_waits_offer(*, now: dt.datetime | None = None) -> list[ScholarshipWait]:
    """Offer scholarships to the scholarship waitlist, oldest first, while the fund covers the
    next one's half: a seat is held for the attendee (as long as a waitlist offer, capped at the
    cutoff) with the award made, and they are e-mailed the link to pay their half. A request
    whose class closed, filled or was cancelled is closed (and they are told nothing is owed);
    one the fund cannot cover yet keeps its place — later requests are not served before it.

    Safe to run twice at once: each offer is one ``checkout_place`` transaction (course rows,
    then the fund row), and the entry is re-read under its own lock."""
    now = now or timezone.now()
    offered: list[ScholarshipWait] = []
    hours = EnrollmentOptions.current().offer_hours
    waiting = list(ScholarshipWait.objects.filter(status=W.WAITING).order_by("created_at", "pk").values_list("pk", flat=True))
    for pk in waiting:
        if fund_balance() <= 0:
            break
        try:
            with locked_atomic():
                wait = ScholarshipWait.objects.select_for_update().select_related("course").get(pk=pk)
                if wait.status != W.WAITING:
                    continue
                course = wait.course
                if fund_balance() < scholarship_amount(course.fee):
                    break  # first come, first served: nobody jumps the line
                buyer = BuyerInput(first_name=wait.first_name, last_name=wait.last_name, email=wait.email,
                                   phone=wait.phone, referral_id=wait.referral_id)
                attendee = AttendeeInput(course_id=course.pk, first_name=wait.attendee_first_name,
                                         last_name=wait.attendee_last_name, age=wait.attendee_age,
                                         relationship=wait.relationship, scholarship=True)
                try:
                    with locked_atomic():
                        result = checkout_place(buyer=buyer, attendees=[attendee], now=now, desk=False,
                                                hold_until=now + dt.timedelta(hours=hours),
                                                actor_label="scholarship waitlist")
                except FundShort:
                    break
                except EnrollmentError as exc:
                    scholarship_wait_close(wait, exc.message)
                    enrollment_messages.queue_scholarship_wait_closed(wait)
                    continue
                wait.status, wait.order = W.OFFERED, result.order
                wait.save(update_fields=["status", "order", "updated_at"])
                enrollment_messages.queue_scholarship_offer(wait, result.registrations[0])
                offered.append(wait)
        except Exception:
            log.exception("scholarship waitlist entry %s: offer failed; tried again on the next run", pk)
    return offered
