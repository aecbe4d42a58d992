"""The staff call list's scripts: what staff say on the phone to a registrant without e-mail."""

from classes import cutoff_words
from core.models import SiteOptions

from ..models import CallListEntry, Registration
from . import common


def call_script(registration: Registration, topic: str, *, needed: int | None = None, refunds=None) -> str:
    """What staff say on the phone to a registrant without e-mail (``CallListEntry.script``):
    the cancellation with how the refund comes back (``refunds``, finance's note; None: nothing
    was paid), the reminder with the first meeting's
    local date, time and place, or the nudge with the number still needed (``needed``; counted
    now when not given)."""
    course = registration.course
    site = SiteOptions.current()
    first = common.first_meeting(course)
    who, buyer = registration.attendee_name, registration.order.buyer_name
    about = "their registration" if who.casefold() == buyer.casefold() else f"{who}'s registration"
    hello = f"Hello, this is {site.library_name} calling for {buyer} about {about} in “{course.title}”."
    topic = CallListEntry.Topic(topic)
    if topic == CallListEntry.Topic.CANCELLATION:
        too_few, staff_reason = common.cancellation_cause(course)
        parts = [hello, "We are sorry: the class is cancelled" + (" because too few people registered" if too_few else "")
                 + (f" (it was to start {common.when_text(first.starts_at)})." if first else ".")]
        if staff_reason:
            parts.append(f"The reason: {staff_reason.rstrip('.')}.")
        # The call list is read by the front desk, who never learn who had a scholarship: no seat's
        # refund names an amount (a half-price one would stand out); the e-mail to the patron does.
        parts.append(refunds.call_text if refunds else "Nothing was paid, so there is nothing to refund.")
        parts.append("Invite them to look at our other classes.")
        return " ".join(parts)
    if topic == CallListEntry.Topic.REMINDER:
        venue = first.effective_venue if first else course.venue
        parts = [hello, "A reminder: the class runs"
                 + (f", and the first meeting is {common.when_text(first.starts_at)}" if first else "")
                 + f", at {venue.name}, {venue.full_address}."]
        meetings = course.ordered_meetings()
        if len(meetings) > 1:
            parts.append(f"It meets {len(meetings)} times; the last meeting is {common.when_text(meetings[-1].starts_at)}.")
        if venue.parking_notes:
            parts.append(f"Parking: {venue.parking_notes}")
        if venue.accessibility_notes:
            parts.append(f"Access: {venue.accessibility_notes}")
        if course.what_to_bring:
            parts.append(f"Please bring: {course.what_to_bring}")
        parts.append(f"The instructor is {course.instructor.display_name}.")
        return " ".join(parts)
    if needed is None:
        confirmed = Registration.objects.filter(course=course, status=Registration.Status.CONFIRMED).count()
        needed = max(course.minimum - confirmed, 0)
    last = cutoff_words.last_day(course)
    parts = [hello, f"The class needs {needed} more {'person' if needed == 1 else 'people'} to register"
             + (f" by {last}" if last else "") + " or it will be cancelled.",
             "If they know someone who would enjoy it, ask them to pass it on: register online or at the library.",
             "If it does not run, they get a full refund."]
    return " ".join(parts)
