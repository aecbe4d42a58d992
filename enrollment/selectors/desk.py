"""Reads of the back office's course pickers and patron search: the classes the front desk
registers for, patrons found among previous orders (``enrollment.staff.desk``), and the classes a
registration can be transferred to (``enrollment.staff.transfer``)."""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from classes.models import Course
from classes.schedule import local

from ..models import Order, Registration
from . import course_seats_annotate

#: Registrations read for a patron search (newest first), and patrons shown.
SEARCH_ROWS = 60
SEARCH_PATRONS = 12
LAST_REGISTRATIONS = 5


def desk_courses(*, now: dt.datetime, ids=None) -> list[Course]:
    """The classes the desk registers for: open or running, in semesters not yet over, with seats
    left; soonest semester first, then by title. One query. ``ids``: only those among them (a
    posted form checks the classes its rows chose, not the whole program)."""
    today = local(now).date()
    qs = (
        Course.objects.filter(status__in=[Course.Status.OPEN, Course.Status.RUNNING], semester__ends_on__gte=today)
        .select_related("semester").annotate(first_meeting_start=Min("meetings__starts_at"))
    )
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    courses = course_seats_annotate(qs, now=now).order_by("semester__starts_on", "title", "pk")
    return list(courses)


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


def transfer_targets(registration: Registration, *, now: dt.datetime) -> QuerySet[Course]:
    """Classes a registration can move to: open or running, in a semester not yet over, not its
    own; with ``seats_left`` and ``first_meeting_start``."""
    qs = (
        Course.objects.filter(status__in=[Course.Status.OPEN, Course.Status.RUNNING],
                              semester__ends_on__gte=timezone.localdate(now))
        .exclude(pk=registration.course_id).select_related("semester")
        .annotate(first_meeting_start=Min("meetings__starts_at"))
    )
    return course_seats_annotate(qs, now=now).order_by("semester__starts_on", "title", "pk")
