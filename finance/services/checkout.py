"""The online checkout's one call: seats, scholarships and a gift to Pass the Buck in one
transaction (the checkout page's and the desk's entry into money).

- ``checkout_place``: places the order through the seat service (``enrollment.services.order_place``,
  which also records the buyer's gift to Pass the Buck on the order) and, in the same
  transaction, awards the scholarships its attendees asked for (``finance.services.scholarships``:
  the rules of asking, half the fee from the fund per seat). All or nothing: when the fund cannot
  cover every half asked for, nothing is placed and ``FundShort`` says which attendee; the page
  then offers full price or the scholarship waitlist.
- ``checkout_wait_or_place``: "Join the scholarship waitlist" at checkout — the attendees who
  asked go on the scholarship waitlist, the rest of the order is placed, in one transaction.

Locks, in the one order every locker uses: the course rows (seat service), the registrations,
then the fund row (``fund_award``).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from classes.models import Course
from enrollment.models import EnrollmentOptions, Registration, ScholarshipWait
from enrollment.services import AttendeeInput, BuyerInput, order_place

from ..models import FundEntry
from .fund import RETURNABLE, FundInsufficient, FundNotReturnable, fund_award_return
from .scholarships import (
    FUND_SHORT_MESSAGE,
    FundShort,
    scholarship_award,
    scholarship_requests_check,
    scholarship_wait_join,
)

S = Registration.Status
K = FundEntry.Kind


def checkout_place(*, buyer: BuyerInput, attendees: list[AttendeeInput], now: dt.datetime | None = None,
                   desk: bool = False, **place_kwargs):
    """Place an order (``order_place``, same arguments) and award the scholarships its
    attendees asked for, in one transaction. Returns the seat service's ``PlaceResult``.

    A waitlisted attendee who asked keeps the request (``scholarship_requested``); it is awarded
    when their offered seat is paid (``scholarships_apply``). ``desk`` (staff granting at the
    desk) skips the per-semester limit. Raises the seat service's errors, ``ScholarshipError``
    (a free class, the limit) or ``FundShort`` — in every case nothing is written.
    """
    now = now or timezone.now()
    if not any(a.scholarship for a in attendees):
        return order_place(buyer=buyer, attendees=attendees, now=now, **place_kwargs)
    limit = EnrollmentOptions.current().scholarship_limit
    courses = {c.pk: c for c in Course.objects.filter(pk__in={a.course_id for a in attendees})}
    scholarship_requests_check(buyer=buyer, attendees=attendees, courses=courses, limit=limit, desk=desk, now=now)
    by = place_kwargs.get("actor")

    def award(result) -> None:  # inside order_place's transaction, before its messages
        # Holds of these classes that ran out just now (order_place expired them under the courses'
        # locks) give their awards back first: a patron retrying at once finds the money again.
        course_ids = {r.course_id for r in result.registrations}
        stale = (FundEntry.objects.filter(kind=K.AWARD, registration__course_id__in=course_ids,
                                          registration__status__in=RETURNABLE)
                 .exclude(registration__fund_entries__kind=K.AWARD_RETURNED).select_related("registration"))
        for entry in stale:
            try:
                fund_award_return(registration=entry.registration, now=now)
            except FundNotReturnable:
                pass  # confirmed meanwhile
        for i, registration in enumerate(result.registrations):
            if not registration.scholarship_requested or registration.status not in (S.HELD, S.CONFIRMED):
                continue
            try:
                scholarship_award(registration=registration, by=by, now=now)
            except FundInsufficient:
                raise FundShort(FUND_SHORT_MESSAGE.format(title=registration.course.title), index=i,
                                course_id=registration.course_id) from None

    return order_place(buyer=buyer, attendees=attendees, now=now, on_placed=award, **place_kwargs)


def checkout_wait_or_place(*, buyer: BuyerInput, attendees: list[AttendeeInput], now: dt.datetime | None = None,
                           **place_kwargs) -> tuple[list[ScholarshipWait], object | None]:
    """"Join the scholarship waitlist" at checkout, in one transaction: the attendees who asked
    for a scholarship go on the scholarship waitlist (nothing held or charged for them); the rest
    of the order is placed as usual (``checkout_place``, same keyword arguments). Returns the
    waitlist entries and the placed result (None when everyone asked). All or nothing."""
    now = now or timezone.now()
    waiting = [a for a in attendees if a.scholarship]
    others = [a for a in attendees if not a.scholarship]
    with transaction.atomic():
        entries = [scholarship_wait_join(buyer=buyer, attendee=a, now=now) for a in waiting]
        result = checkout_place(buyer=buyer, attendees=others, now=now, **place_kwargs) if others else None
    return entries, result
