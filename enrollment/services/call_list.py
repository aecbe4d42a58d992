"""The staff call list: registrants without e-mail whom staff phone about a decided course (one
entry per registration and topic, with what to tell them), and the record of each call."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from classes.schedule import local
from core.models import SiteOptions

from .. import messages
from ..models import CallListEntry, Registration

S = Registration.Status
Outcome = CallListEntry.Outcome


def call_list_add(registration: Registration, topic: str, *, script: str = "", needed: int | None = None,
          refunds=None) -> None:
    """Put a registrant without e-mail on the staff call list, once per topic; the script is
    ``enrollment.messages.call_script``'s unless a case it does not cover gives its own."""
    if registration.order.email:
        return
    if CallListEntry.objects.filter(registration=registration, topic=topic).exists():
        return
    script = script or messages.call_script(registration, topic, needed=needed, refunds=refunds)
    CallListEntry.objects.get_or_create(registration=registration, topic=topic, defaults={"script": script})


def call_greeting(registration: Registration) -> str:
    return (f"Hello, this is {SiteOptions.current().library_name} calling for {registration.order.buyer_name} "
            f"about {registration.attendee_name}'s registration in “{registration.course.title}”.")


def call_script_staff_cancel(registration: Registration, *, was: str, reason: str, refunds=None) -> str:
    """The call script of a class staff cancelled (``call_script`` says "too few registered")."""
    course = registration.course
    start = course.first_start
    when = f" (it was to start {local(start):%A, %B %-d at %-I:%M %p})" if start else ""
    text = f"{call_greeting(registration)} We are sorry: the class is cancelled{when}. Reason: {reason}. "
    # Read by the front desk: no seat's refund names an amount (a half-price one would stand out).
    if refunds:
        text += refunds.call_text
    elif was == S.WAITLISTED:
        text += "They were on its waitlist: nothing was charged."
    else:
        text += "Nothing was paid, so there is nothing to refund."
    return text


def call_mark(*, entry_id: int, outcome: str, notes: str, actor, now: dt.datetime | None = None) -> CallListEntry:
    """Record a call: its outcome and notes, who made it and when. Locks the entry's row, so two
    clerks marking the same call at once leave one consistent record (the last one's). Marking a
    call again (a message left, then a real conversation) replaces the outcome."""
    if outcome not in Outcome.values or outcome == Outcome.NOT_CALLED:
        raise ValueError(f"not an outcome of a call: {outcome!r}")
    now = now or timezone.now()
    with transaction.atomic():
        entry = CallListEntry.objects.select_for_update().get(pk=entry_id)
        entry.outcome, entry.notes = outcome, notes.strip()[:300]
        entry.called_at, entry.called_by = now, actor
        entry.save(update_fields=["outcome", "notes", "called_at", "called_by", "updated_at"])
    return entry
