"""The week-out run's messages to registrants, queued inside its transaction: the class cancelled,
the reminder (with the venue's map inline) and the low-enrollment nudge. A registration without an
e-mail address gets no message (``outbox_enqueue`` skips it); the week-out run puts it on the
staff call list with ``enrollment.messages.call_scripts.call_script`` instead."""

import base64
import io
import logging
from decimal import Decimal

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from PIL import Image

from core.models import OutboxMessage, SiteOptions
from core.outbox import outbox_enqueue, outbox_enqueue_many

from ..links import absolute, manage_urls
from ..models import Registration
from . import common

logger = logging.getLogger(__name__)

#: The Content-ID of the venue's map image in the reminder (``<img src="cid:venue-map">``).
MAP_CID = "venue-map"
#: The map is shown at most this wide in the e-mail (pixels); the image itself may be up to
#: ``MAP_MAX_SIDE`` for sharp screens. A bigger upload is scaled down before it is attached.
MAP_DISPLAY_WIDTH = 560
MAP_MAX_SIDE = 1200
MAP_MAX_BYTES = 400_000


def queue_course_cancelled(registration: Registration, *, refunds=None) -> None:
    """The class is cancelled because too few registered (or for the reason staff gave), and the
    refund: ``refunds`` is finance's note of how each part comes back (queued by finance once it
    has settled them); None when nothing was paid."""
    if not registration.order.email:
        return
    too_few, staff_reason = common.cancellation_cause(registration.course)
    context = common.base_context(registration.order) | common.course_context(registration) | {
        "first_meeting": common.first_meeting(registration.course),
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
    """The reminder of one registration (``queue_reminders`` of one)."""
    queue_reminders([registration])


def queue_reminders(registrations) -> list[int]:
    """The class runs: to each registration's buyer, each meeting's local date and time, the
    venue's address and its map (embedded inline, ``cid:venue-map``), directions, parking and
    accessibility, what to bring, the instructor. The plain-text part carries the same facts and
    the links. Once per registration (``reminder:<id>``); none without an address (call list).

    All at once, as the week-out run needs them: the registrations already reminded are found in
    one query, each course's meetings are read once and each venue's map once (stored once by
    the outbox, whatever the number of reminders), and the messages are inserted together
    (``outbox_enqueue_many``). Returns the ids of the messages queued."""
    keyed = {f"reminder:{r.pk}": r for r in registrations if r.order.email}
    if not keyed:
        return []
    done = set(OutboxMessage.objects.filter(dedupe_key__in=list(keyed)).values_list("dedupe_key", flat=True))
    keyed = {key: r for key, r in keyed.items() if key not in done}
    if not keyed:
        return []  # sent already: no need to read the maps again
    courses = {r.course_id: r.course for r in keyed.values()}
    prefetch_related_objects([c for c in courses.values() if not _meetings_loaded(c)], "meetings__venue")
    maps: dict[int, dict | None] = {}
    times: dict[int, dict] = {}
    site = SiteOptions.current()
    links = manage_urls(r.order.email for r in keyed.values())
    items = []
    for key, registration in keyed.items():
        course = courses[registration.course_id]
        registration.course = course
        if course.pk not in times:
            times[course.pk] = _meeting_times(course)
        if course.venue_id not in maps:
            maps[course.venue_id] = venue_map_attachment(course.venue)
        attachment = maps[course.venue_id]
        order = registration.order
        # common.base_context's keys, with the options and the links read once for all
        patron = {"site": site, "order": order, "buyer_first_name": order.first_name,
                  "manage_url": links.get(order.email, ""), "site_url": settings.SITE_URL}
        context = patron | common.course_context(registration) | {
            "first_meeting": common.first_meeting(course),
            **times[course.pk],
            "instructor": course.instructor,
            "map_cid": attachment["cid"] if attachment else "",
            "map_width": attachment["width"] if attachment else None,
            "map_height": attachment["height"] if attachment else None,
        }
        attachments = []
        if attachment:
            attachments.append({k: attachment[k] for k in ("filename", "mimetype", "cid", "content_b64")})
        items.append({"to": registration.order.email, "template": "reminder", "context": context,
                      "dedupe_key": key, "attachments": attachments})
    return outbox_enqueue_many(items)


def _meeting_times(course) -> dict:
    """The reminder's dates and times, the same for every registrant: formatted once per course,
    in local time (as the ``date`` filter would show them in the template)."""
    def local(value, fmt):
        return date_filter(timezone.localtime(value), fmt)

    meetings = course.ordered_meetings()
    first = meetings[0].starts_at if meetings else None
    return {
        "meeting_times": [{"meeting": m, "when": f"{local(m.starts_at, 'l, F j, Y')}, {local(m.starts_at, 'g:i A')} "
                                                 f"to {local(m.ends_at, 'g:i A T')}"} for m in meetings],
        "first_day": local(first, "l, F j") if first else "",
        "first_time": local(first, "g:i A") if first else "",
    }


def _meetings_loaded(course) -> bool:
    return "meetings" in getattr(course, "_prefetched_objects_cache", {})


def queue_nudge(registration: Registration, needed: int) -> None:
    """The class is short of its minimum: "help this class run — N more needed", the course link
    to share, and what happens if it does not fill."""
    if not registration.order.email:
        return
    context = common.base_context(registration.order) | common.course_context(registration) | {
        "needed": needed,
        "first_meeting": common.first_meeting(registration.course),
    }
    outbox_enqueue(to=registration.order.email, template="nudge", context=context,
                   dedupe_key=f"nudge:{registration.course_id}:{registration.pk}")
