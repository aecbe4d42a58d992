"""The messages enrollment sends, queued through the outbox in the caller's transaction.

Templates: ``templates/emails/<name>.{subject.txt,txt,html}``. Every context carries ``site``
(the library's options) and ``manage_url`` (the patron's signed "My registrations" link).
Dedupe keys make each message at most once per cause.
"""

import base64
import io
import logging
from decimal import Decimal
from urllib.parse import urlparse

from django.conf import settings
from django.utils import dateformat, timezone
from PIL import Image

from classes import cutoff_words
from classes.ics import course_calendar
from core.models import OutboxMessage, SiteOptions
from core.outbox import outbox_enqueue

from ..links import absolute, manage_url
from ..models import CallListEntry, CourseDecision, Order, Registration

logger = logging.getLogger(__name__)


def _base(order: Order) -> dict:
    return {
        "site": SiteOptions.current(),
        "order": order,
        "buyer_first_name": order.first_name,
        "manage_url": manage_url(order.email) if order.email else "",
        "site_url": settings.SITE_URL,
    }


def _course_block(registration: Registration) -> dict:
    course = registration.course
    return {
        "registration": registration,
        "course": course,
        "course_url": absolute(course.get_absolute_url()),
        "meetings": course.ordered_meetings(),
        "venue": course.venue,
    }


def _ics_attachment(course) -> dict:
    host = urlparse(settings.SITE_URL).hostname or "localhost"
    data = course_calendar(course, course_url=absolute(course.get_absolute_url()), host=host,
                           program_name=SiteOptions.current().program_name)
    return {"filename": f"{course.slug}.ics", "mimetype": "text/calendar",
            "content_b64": base64.b64encode(data).decode("ascii")}


def queue_confirmation(order: Order, registrations: list[Registration]) -> None:
    """Confirmation and receipt: each class, its meetings, venue and map link, what to bring,
    the amount, an .ics per class attached, and the link to cancel."""
    ids = "-".join(str(r.pk) for r in sorted(registrations, key=lambda r: r.pk))
    context = _base(order) | {
        "items": [_course_block(r) for r in registrations],
        "total": sum((r.patron_price for r in registrations), start=type(registrations[0].price)("0.00")),
    }
    seen, attachments = set(), []
    for r in registrations:
        if r.course_id not in seen:
            seen.add(r.course_id)
            attachments.append(_ics_attachment(r.course))
    outbox_enqueue(to=order.email, template="registration_confirmed", context=context,
                   dedupe_key=f"confirmation:{order.pk}:{ids}", attachments=attachments)


def queue_waitlist_joined(registration: Registration) -> None:
    from ..selectors import waitlist_position

    context = _base(registration.order) | _course_block(registration) | {
        "position": waitlist_position(registration),
    }
    outbox_enqueue(to=registration.order.email, template="waitlist_joined", context=context,
                   dedupe_key=f"waitlist-joined:{registration.pk}")


def queue_waitlist_offer(registration: Registration) -> None:
    from django.urls import reverse

    from ..links import manage_token

    context = _base(registration.order) | _course_block(registration) | {
        "claim_url": absolute(reverse("enrollment:offer-claim-link", args=[manage_token(registration.order.email),
                                                                      registration.pk])),
        "expires_at": registration.expires_at,
    }
    outbox_enqueue(to=registration.order.email, template="waitlist_offer", context=context,
                   dedupe_key=f"offer:{registration.pk}")


def _scholarship_wait_base(wait) -> dict:
    course = wait.course
    return {
        "site": SiteOptions.current(), "wait": wait, "buyer_first_name": wait.first_name,
        "attendee_name": f"{wait.attendee_first_name} {wait.attendee_last_name}".strip(),
        "course": course, "course_url": absolute(course.get_absolute_url()), "meetings": course.ordered_meetings(),
        "venue": course.venue, "manage_url": _manage_url_or_blank(wait.email), "site_url": settings.SITE_URL,
    }


def _manage_url_or_blank(email: str) -> str:
    """The "My registrations" link, when the patron has an order to show (a scholarship-waitlist
    entry alone is not one)."""
    try:
        return manage_url(email)
    except ValueError:
        return ""


def queue_scholarship_wait_joined(wait) -> None:
    """"You are on the scholarship waitlist": nothing is held or charged yet."""
    outbox_enqueue(to=wait.email, template="scholarship_wait_joined", context=_scholarship_wait_base(wait),
                   dedupe_key=f"scholarship-wait:{wait.pk}")


def queue_scholarship_wait_closed(wait) -> None:
    outbox_enqueue(to=wait.email, template="scholarship_wait_closed", context=_scholarship_wait_base(wait),
                   dedupe_key=f"scholarship-wait-closed:{wait.pk}")


def queue_scholarship_offer(wait, registration: Registration) -> None:
    """The fund can pay half now: a seat is held with the scholarship; pay your half by the link."""
    from django.urls import reverse

    context = _scholarship_wait_base(wait) | {
        "registration": registration, "expires_at": registration.expires_at,
        "you_pay": registration.patron_price,
        "pay_url": absolute(reverse("finance:pay-link", args=[registration.order.token])),
    }
    outbox_enqueue(to=wait.email, template="scholarship_offer", context=context,
                   dedupe_key=f"scholarship-offer:{wait.pk}")


def queue_offer_expired(registration: Registration) -> None:
    context = _base(registration.order) | _course_block(registration)
    outbox_enqueue(to=registration.order.email, template="waitlist_offer_expired", context=context,
                   dedupe_key=f"offer-expired:{registration.pk}")


def queue_cancelled(registration: Registration, *, was: str, refunds=None) -> None:
    """"Registration cancelled" (or "you left the waitlist"). When a refund is due, finance
    queues it once it has settled the refund, with ``refunds``: a ``finance.refund_words``
    note saying how each part comes back (enrollment does not read payments, so it never says)."""
    context = _base(registration.order) | _course_block(registration) | {
        "was_waitlisted": was in (Registration.Status.WAITLISTED,),
        "refunds": refunds,
        "settled": refunds is not None,
        "refund_due": refunds.total if refunds else Decimal("0.00"),
    }
    outbox_enqueue(to=registration.order.email, template="registration_cancelled", context=context,
                   dedupe_key=f"cancelled:{registration.pk}")


def queue_manage_link(email: str) -> None:
    """A fresh "My registrations" link, on request (at most one a minute per address)."""
    import hashlib

    from django.utils import timezone

    minute = timezone.now().strftime("%Y%m%d%H%M")
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]  # no address in the key
    try:
        url = manage_url(email)
    except ValueError:  # no registrations under that address: nothing to send
        return
    context = {"site": SiteOptions.current(), "manage_url": url, "site_url": settings.SITE_URL}
    outbox_enqueue(to=email, template="manage_link", context=context, dedupe_key=f"manage-link:{digest}:{minute}")


# --- the week-out run: cancellation, reminder, nudge; the instructor's messages; call scripts ------
#
# Called by ``enrollment.services.weekout`` inside its transaction. A registration without an
# e-mail address gets no message (``outbox_enqueue`` skips it); the week-out run puts it on the
# staff call list with ``call_script`` instead.

#: The Content-ID of the venue's map image in the reminder (``<img src="cid:venue-map">``).
MAP_CID = "venue-map"
#: The map is shown at most this wide in the e-mail (pixels); the image itself may be up to
#: ``MAP_MAX_SIDE`` for sharp screens. A bigger upload is scaled down before it is attached.
MAP_DISPLAY_WIDTH = 560
MAP_MAX_SIDE = 1200
MAP_MAX_BYTES = 400_000

def _first_meeting(course):
    meetings = course.ordered_meetings()
    return meetings[0] if meetings else None


def _when(value) -> str:
    """A local date and time as staff say it: "Tuesday, March 5 at 6:30 PM"."""
    local = timezone.localtime(value)
    return f"{dateformat.format(local, 'l, F j')} at {dateformat.format(local, 'g:i A')}"


def _decision(course) -> CourseDecision | None:
    """The course's week-out decision (cached on the course instance), or None."""
    try:
        return course.decision
    except CourseDecision.DoesNotExist:
        return None


def cancellation_cause(course) -> tuple[bool, str]:
    """(too few registered?, the staff's reason) of a cancelled course. The week-out run cancels
    for too few; staff may cancel for another reason (recorded on the decision, and told to
    patrons — the call script reads it out too)."""
    decision = _decision(course)
    if decision is None or decision.automatic:
        return True, ""
    return False, decision.reason  # staff decided it, for the reason they gave: not "too few"


def queue_course_cancelled(registration: Registration, *, refunds=None) -> None:
    """The class is cancelled because too few registered (or for the reason staff gave), and the
    refund: ``refunds`` is finance's note of how each part comes back (queued by finance once it
    has settled them); None when nothing was paid."""
    if not registration.order.email:
        return
    too_few, staff_reason = cancellation_cause(registration.course)
    context = _base(registration.order) | _course_block(registration) | {
        "first_meeting": _first_meeting(registration.course),
        "refunds": refunds,
        "refund_amount": refunds.total if refunds else Decimal("0.00"),
        "too_few": too_few,
        "staff_reason": staff_reason,
        "catalog_url": absolute("/"),
    }
    outbox_enqueue(to=registration.order.email, template="course_cancelled", context=context,
                   dedupe_key=f"course-cancelled:{registration.pk}")


def _image_bytes(data: bytes) -> tuple[bytes, str, int, int]:
    """(bytes, mimetype, width, height) of an uploaded map: as it is when it is a PNG, JPEG or GIF
    of a sensible size; else scaled down to ``MAP_MAX_SIDE`` and re-encoded (PNG for drawings,
    JPEG for photos or when the PNG stays too big). Raises on a file that is not an image."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        fmt, (width, height) = image.format, image.size
        if fmt in ("PNG", "JPEG", "GIF") and max(width, height) <= MAP_MAX_SIDE and len(data) <= MAP_MAX_BYTES:
            return data, f"image/{fmt.lower()}", width, height
        image.thumbnail((MAP_MAX_SIDE, MAP_MAX_SIDE))
        size = image.size
        if fmt in ("PNG", "GIF") or image.mode in ("1", "L", "LA", "P", "RGBA"):
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            if out.tell() <= MAP_MAX_BYTES:
                return out.getvalue(), "image/png", *size
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))  # transparent parts on white, not black
        out = io.BytesIO()
        flat.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue(), "image/jpeg", *size


def venue_map_attachment(venue) -> dict | None:
    """The venue's map image (``Venue.map_image``) as an inline attachment for ``<img
    src="cid:venue-map">``, with its display size; None when the venue has no map or its file is
    missing or not an image (the reminder then gives the address and the links only). Reads the
    file's bytes: no map service is called."""
    if not venue.map_image:
        return None
    try:
        with venue.map_image.open("rb") as file:
            data = file.read()
        content, mimetype, width, height = _image_bytes(data)
    except Exception as exc:  # a missing or broken file must not stop the reminder
        logger.warning("venue %s: map image not attached (%s)", venue.pk, type(exc).__name__)
        return None
    display_width = min(width, MAP_DISPLAY_WIDTH)
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}[mimetype]
    return {
        "filename": f"map-{venue.slug}.{extension}", "mimetype": mimetype, "cid": MAP_CID,
        "content_b64": base64.b64encode(content).decode("ascii"),
        "width": display_width, "height": max(1, round(height * display_width / width)),
    }


def queue_reminder(registration: Registration) -> None:
    """The class runs: each meeting's local date and time, the venue's address and its map
    (embedded inline, ``cid:venue-map``), directions, parking and accessibility, what to bring,
    the instructor. The plain-text part carries the same facts and the links."""
    email = registration.order.email
    key = f"reminder:{registration.pk}"
    if not email or OutboxMessage.objects.filter(dedupe_key=key).exists():
        return  # no address (call list), or sent already: no need to read the map again
    course = registration.course
    attachment = venue_map_attachment(course.venue)
    context = _base(registration.order) | _course_block(registration) | {
        "first_meeting": _first_meeting(course),
        "instructor": course.instructor,
        "map_cid": attachment["cid"] if attachment else "",
        "map_width": attachment["width"] if attachment else None,
        "map_height": attachment["height"] if attachment else None,
    }
    attachments = []
    if attachment:
        attachments.append({k: attachment[k] for k in ("filename", "mimetype", "cid", "content_b64")})
    outbox_enqueue(to=email, template="reminder", context=context, dedupe_key=key, attachments=attachments)


def queue_nudge(registration: Registration, needed: int) -> None:
    """The class is short of its minimum: "help this class run — N more needed", the course link
    to share, and what happens if it does not fill."""
    if not registration.order.email:
        return
    context = _base(registration.order) | _course_block(registration) | {
        "needed": needed,
        "first_meeting": _first_meeting(registration.course),
    }
    outbox_enqueue(to=registration.order.email, template="nudge", context=context,
                   dedupe_key=f"nudge:{registration.course_id}:{registration.pk}")


# --- to the instructor ---------------------------------------------------------------------------

def _instructor_context(course) -> dict:
    return {
        "site": SiteOptions.current(),
        "site_url": settings.SITE_URL,
        "course": course,
        "course_url": absolute(course.get_absolute_url()),
        "meetings": course.ordered_meetings(),
        "first_meeting": _first_meeting(course),
        "venue": course.venue,
        "instructor": course.instructor,
    }


def _confirmed_count(course) -> int:
    """The count the course was decided on (its ``CourseDecision``), else the count now."""
    decision = _decision(course)
    if decision is not None:
        return decision.confirmed_count
    return Registration.objects.filter(course=course, status=Registration.Status.CONFIRMED).count()


def instructor_roster_names(course) -> list[str]:
    """The final roster for the instructor: confirmed attendees' names, by last name — nothing
    else (no contact details, payment or scholarship)."""
    rows = Registration.objects.filter(course=course, status=Registration.Status.CONFIRMED).values_list(
        "attendee_first_name", "attendee_last_name")
    rows = sorted(rows, key=lambda r: (r[1].casefold(), r[0].casefold()))
    return [f"{first} {last}".strip() for first, last in rows]


def queue_instructor_roster(course) -> None:
    """The class runs: the final roster (names only) and the first-class checklist."""
    names = instructor_roster_names(course)
    context = _instructor_context(course) | {"attendees": names, "confirmed_count": len(names)}
    outbox_enqueue(to=course.instructor.email, template="instructor_roster", context=context,
                   dedupe_key=f"instructor-roster:{course.pk}")


def queue_instructor_cancelled(course) -> None:
    """The class is cancelled for too few registrations (or the reason staff gave); registrants
    are told and refunded."""
    too_few, staff_reason = cancellation_cause(course)
    context = _instructor_context(course) | {"confirmed_count": _confirmed_count(course), "too_few": too_few,
                                             "staff_reason": staff_reason}
    outbox_enqueue(to=course.instructor.email, template="instructor_cancelled", context=context,
                   dedupe_key=f"instructor-cancelled:{course.pk}")


def queue_instructor_nudge(course, needed: int) -> None:
    """The class is short of its minimum before the cutoff: N more needed, the link to share."""
    context = _instructor_context(course) | {"needed": needed, "confirmed_count": course.minimum - needed}
    outbox_enqueue(to=course.instructor.email, template="instructor_nudge", context=context,
                   dedupe_key=f"instructor-nudge:{course.pk}")


# --- the staff call list ---------------------------------------------------------------------------

def call_script(registration: Registration, topic: str, *, needed: int | None = None, refunds=None) -> str:
    """What staff say on the phone to a registrant without e-mail (``CallListEntry.script``):
    the cancellation with how the refund comes back (``refunds``, finance's note; None: nothing
    was paid), the reminder with the first meeting's
    local date, time and place, or the nudge with the number still needed (``needed``; counted
    now when not given)."""
    course = registration.course
    site = SiteOptions.current()
    first = _first_meeting(course)
    who, buyer = registration.attendee_name, registration.order.buyer_name
    about = "their registration" if who.casefold() == buyer.casefold() else f"{who}'s registration"
    hello = f"Hello, this is {site.library_name} calling for {buyer} about {about} in “{course.title}”."
    topic = CallListEntry.Topic(topic)
    if topic == CallListEntry.Topic.CANCELLATION:
        too_few, staff_reason = cancellation_cause(course)
        parts = [hello, "We are sorry: the class is cancelled" + (" because too few people registered" if too_few else "")
                 + (f" (it was to start {_when(first.starts_at)})." if first else ".")]
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
                 + (f", and the first meeting is {_when(first.starts_at)}" if first else "")
                 + f", at {venue.name}, {venue.full_address}."]
        meetings = course.ordered_meetings()
        if len(meetings) > 1:
            parts.append(f"It meets {len(meetings)} times; the last meeting is {_when(meetings[-1].starts_at)}.")
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
