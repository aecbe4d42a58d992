"""Confirmation: registrations whose payment has arrived get their seat (inside their hold, or
after it if one is still free), or are lost for the caller to refund."""

import datetime as dt

from django.utils import timezone

from core.locking import locked_atomic

from .. import messages
from ..models import Registration
from . import seats

S = Registration.Status


def registrations_confirm_paid(
    *, registration_ids: list[int], now: dt.datetime | None = None, actor=None, actor_label: str = "system",
    reason: str = "paid",
) -> tuple[list[Registration], list[Registration]]:
    """Confirm registrations whose payment has arrived. Returns (confirmed, lost).

    Inside its hold (or offer) a registration is confirmed with no new capacity check. After it
    ran out, it is confirmed only if a seat is still free; otherwise it is *lost* (the caller
    refunds it). Already-confirmed registrations are left alone, so calling this twice is safe.
    Call it inside the caller's transaction. Locks: the courses' rows, then the registrations.
    """
    now = now or timezone.now()
    confirmed: list[Registration] = []
    lost: list[Registration] = []
    with locked_atomic():
        course_ids = set(Registration.objects.filter(pk__in=registration_ids).values_list("course_id", flat=True))
        courses = seats.courses_lock(course_ids)
        qs = Registration.objects.filter(pk__in=registration_ids).select_related("order").order_by("pk")
        rows = list(qs.select_for_update(of=("self",)) if seats.LOCKING else qs)
        for registration in rows:
            course = registration.course = courses[registration.course_id]
            if registration.status == S.CONFIRMED:
                continue
            course_open = course.takes_registrations(now)
            in_time = course_open and registration.status in (S.HELD, S.OFFERED) and registration.expires_at > now
            # Inside its hold (or offer) the seat is already counted: no capacity check. After it
            # ran out, a registration gets a seat only if one is free, nobody is waiting in line
            # for it, the attendee has not registered again meanwhile, and its scholarship (if
            # any) has not gone back to the fund (read under the row's lock; finance locks the
            # registration before returning an award). Only then are those four read.
            late_ok = not in_time and registration.status in (S.HELD, S.OFFERED, S.EXPIRED) and _late_seat_free(registration, course, course_open=course_open, now=now)
            if registration.status in (S.HELD, S.OFFERED, S.EXPIRED) and (in_time or late_ok):
                registration.confirmed_at = now
                registration.expires_at = None
                seats.registration_transition(registration, S.CONFIRMED, now=now, actor=actor, actor_label=actor_label,
                                              reason=reason if in_time else f"{reason} after the hold ran out; a seat was free",
                                              fields=("confirmed_at", "expires_at"))
                confirmed.append(registration)
            else:
                if registration.status in (S.HELD, S.OFFERED):
                    seats.registration_transition(registration, S.EXPIRED, now=now, actor=actor,
                                                  actor_label=actor_label,
                                                  reason="paid after the hold ran out; no seat for it")
                lost.append(registration)
        by_order: dict[int, list[Registration]] = {}
        for registration in confirmed:
            by_order.setdefault(registration.order_id, []).append(registration)
        for group in by_order.values():
            messages.queue_confirmation(group[0].order, group)
    return confirmed, lost


def _late_seat_free(registration: Registration, course, *, course_open: bool, now: dt.datetime) -> bool:
    """A registration paid after its hold ran out: is there still a seat for it? (Under the
    course's and the registration's locks.)"""
    return (
        course_open
        # its Pass the Buck award already went back to the fund: the seat is not paid for
        and registration.fund_returned == 0
        and seats.seats_taken(course.pk, now=now) < course.capacity
        and not Registration.objects.filter(course_id=course.pk, status=S.WAITLISTED).exists()
        and not Registration.objects.filter(
            course_id=course.pk, attendee_key=registration.attendee_key, status__in=Registration.ACTIVE
        ).exclude(pk=registration.pk).exists()
    )
