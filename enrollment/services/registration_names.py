"""A registration's attendee name corrected in the back office, with its audit row."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ..models import Registration, RegistrationEvent
from .seats import attendee_key


def registration_names_edit(
    *, registration_id: int, first_name: str, last_name: str, actor, now: dt.datetime | None = None,
) -> Registration:
    """Correct the attendee's name: save the two names and the identity key they make (only those
    fields, so a payment or expiry that lands meanwhile is never overwritten with what the page
    read) and write a ``RegistrationEvent``: who and when, the name from → to in its reason, the
    status unchanged (from and to the same). A name that did not change writes nothing.

    Locks: the registration's row (``SELECT … FOR UPDATE``).
    """
    now = now or timezone.now()
    with transaction.atomic():
        registration = Registration.objects.select_for_update().select_related("order").get(pk=registration_id)
        before = f"{registration.attendee_first_name} {registration.attendee_last_name}".strip()
        if (registration.attendee_first_name, registration.attendee_last_name) == (first_name, last_name):
            return registration
        registration.attendee_first_name, registration.attendee_last_name = first_name, last_name
        registration.attendee_key = attendee_key(
            first_name=first_name, last_name=last_name, email=registration.order.email, phone=registration.order.phone,
        )
        registration.save(update_fields=["attendee_first_name", "attendee_last_name", "attendee_key", "updated_at"])
        after = f"{first_name} {last_name}".strip()
        RegistrationEvent.objects.create(
            registration=registration, at=now, actor=actor,
            actor_label=(actor.get_username() if actor is not None else "staff")[:80],
            from_status=registration.status, to_status=registration.status,
            reason=f"name corrected: {before} → {after}"[:300],
        )
    return registration
