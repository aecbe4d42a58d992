"""The patron e-mails, rendered through enrollment.messages with realistic objects: every part a
patron needs is in both the HTML and the (self-sufficient) plain-text part, in local time."""

import datetime as dt
import re
from decimal import Decimal

import icalendar
import pytest
from django.utils import timezone
from django.utils.html import escape

from core.outbox import outbox_attachment_bytes
from enrollment import messages
from enrollment.links import email_from_token
from enrollment.models import Order, Registration
from finance.refund_words import TIMING, RefundNote, RefundPart
from tests.enrollment.mail_checks import both, only_message, parts, site  # noqa: F401  (site: autouse fixture)
from tests.factories import (
    InstructorFactory,
    OrderFactory,
    RegistrationFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
)

pytestmark = pytest.mark.django_db
S = Registration.Status

# Two meetings either side of the 2030 switch to daylight time (Sunday, March 10): both at
# 6:30 pm local, i.e. 00:30 UTC the next day in winter and 23:30 UTC in summer.
FIRST = dt.date(2030, 3, 5)


@pytest.fixture
def course():
    venue = VenueFactory(name="Community Kitchen", street_address="125 S 7th St", city="Salina", postal_code="67401",
                         accessibility_notes="Ramp at the east door.", parking_notes="Street parking on 7th.")
    return course_with_meetings(
        first=local_dt(FIRST, 18, 30), weekly=2, minutes=90, title="Bread & Butter's Basics", venue=venue,
        what_to_bring="An apron & a 9-inch loaf pan.", fee=Decimal("45.00"),
        instructor=InstructorFactory(first_name="Maria", last_name="Lopez"),
    )


def manage_link_email(text: str) -> str | None:
    """The address the "My registrations" link in ``text`` was signed for."""
    match = re.search(r"http://127\.0\.0\.1:8000/my/(\S+)/\s", text)
    return email_from_token(match.group(1), max_age_days=1) if match else None


def test_confirmation_and_receipt(course, site):  # noqa: F811  (the fixture from mail_checks)
    other = course_with_meetings(first=local_dt(dt.date(2030, 4, 2), 10, 0), weekly=1, minutes=120,
                                 title="Knitting for Beginners", fee=Decimal("0.00"), what_to_bring="")
    order = OrderFactory(first_name="Jordan", email="jordan@example.org")
    registrations = [
        RegistrationFactory(order=order, course=course, attendee_first_name="Alex", attendee_last_name="Reader",
                            price=Decimal("45.00")),
        RegistrationFactory(order=order, course=other, attendee_first_name="Alex", attendee_last_name="Reader",
                            price=Decimal("0.00")),
        RegistrationFactory(order=order, course=course, attendee_first_name="Sam", attendee_last_name="Reader",
                            price=Decimal("22.50"), relationship=Registration.Relationship.FAMILY),
    ]
    messages.queue_confirmation(order, registrations)
    message = only_message("registration_confirmed")
    text, html = parts(message)

    assert message.to == "jordan@example.org"
    assert order.reference in message.subject and len(message.subject) < 80
    both(text, html, "Hello Jordan")
    both(text, html, "Bread & Butter's Basics")
    # Every meeting's local date and time (the UTC dates would be March 6 and 12, 00:30 / 23:30).
    both(text, html, "Tuesday, March 5, 2030, 6:30 PM to 8:00 PM CST")
    both(text, html, "Tuesday, March 12, 2030, 6:30 PM to 8:00 PM CDT")
    both(text, html, "Tuesday, April 2, 2030, 10:00 AM to 12:00 PM CDT")
    assert "12:30 AM" not in text and "11:30 PM" not in text
    venue = course.venue
    both(text, html, "Community Kitchen")
    both(text, html, "125 S 7th St, Salina, KS 67401")
    both(text, html, venue.map_url)
    both(text, html, venue.directions_url)
    both(text, html, "Ramp at the east door.")
    both(text, html, "Street parking on 7th.")
    both(text, html, "An apron & a 9-inch loaf pan.")
    both(text, html, "Maria Lopez")
    both(text, html, "Alex Reader")
    both(text, html, "Sam Reader")
    both(text, html, "$45.00")
    both(text, html, "$22.50")
    both(text, html, "Free")
    both(text, html, "Total paid: $67.50")
    # Each class once, with both attendees under it.
    assert text.count("Bread & Butter's Basics\n") == 1
    # The cancellation policy: registration closes at local midnight 7 days before, Tue Feb 26.
    both(text, html, "Cancel by Mon, Feb 25 for a full refund.")
    both(text, html, "no refund")
    # The manage link, to view or cancel: signed for the buyer's address.
    assert manage_link_email(text) == "jordan@example.org"
    assert re.search(r'href="http://127\.0\.0\.1:8000/my/[^"]+/"', html)
    both(text, html, "view or cancel")
    # Signed by the program, with contact.
    for value in ("Lifelong Learning", "Salina Public Library", "785-555-0199", "classes@salinapubliclibrary.example"):
        both(text, html, value)

    # One .ics per class, parsing, with the local times of every meeting.
    assert [a["filename"] for a in message.attachments] == [f"{course.slug}.ics", f"{other.slug}.ics"]

    calendar = icalendar.Calendar.from_ical(outbox_attachment_bytes(message.attachments[0]))
    starts = sorted(event.decoded("DTSTART") for event in calendar.walk("VEVENT"))
    assert [timezone.localtime(s).strftime("%Y-%m-%d %H:%M") for s in starts] == ["2030-03-05 18:30", "2030-03-12 18:30"]
    assert all(event["SUMMARY"] == "Bread & Butter's Basics" for event in calendar.walk("VEVENT"))


def test_waitlist_joined(course):
    RegistrationFactory(course=course, status=S.WAITLISTED)
    registration = RegistrationFactory(course=course, status=S.WAITLISTED, attendee_first_name="Robin",
                                       attendee_last_name="Page", order=OrderFactory(first_name="Robin"))
    messages.queue_waitlist_joined(registration)
    message = only_message("waitlist_joined")
    text, html = parts(message)
    assert message.subject == "On the waitlist: Bread & Butter's Basics"
    both(text, html, "Robin Page")
    assert "number 2 in line" in text and "number 2</strong> in line" in html
    both(text, html, "Tuesday, March 5, 2030, 6:30 PM to 8:00 PM CST")
    both(text, html, "125 S 7th St, Salina, KS 67401")
    both(text, html, course.venue.map_url)
    both(text, html, "An apron & a 9-inch loaf pan.")
    both(text, html, "leave the waitlist")
    assert manage_link_email(text) == registration.order.email


def test_waitlist_offer(course):
    expires = local_dt(dt.date(2030, 3, 1), 17, 0)
    registration = RegistrationFactory(course=course, status=S.OFFERED, expires_at=expires, confirmed_at=None)
    messages.queue_waitlist_offer(registration)
    message = only_message("waitlist_offer")
    text, html = parts(message)
    assert "Bread & Butter's Basics" in message.subject and "Mar 1, 5:00 PM" in message.subject
    both(text, html, "Friday, March 1, 2030, 5:00 PM CST")
    claim = re.search(r"http://127\.0\.0\.1:8000/my/(\S+)/claim/(\d+)/", text)
    assert claim and int(claim.group(2)) == registration.pk
    assert email_from_token(claim.group(1), max_age_days=1) == registration.order.email
    assert escape(claim.group(0)) in html
    both(text, html, "the seat goes to the next person on the waitlist")
    both(text, html, "$45.00")
    both(text, html, "Tuesday, March 12, 2030, 6:30 PM to 8:00 PM CDT")
    both(text, html, course.venue.map_url)


def test_waitlist_offer_expired(course):
    registration = RegistrationFactory(course=course, status=S.EXPIRED, confirmed_at=None,
                                       expires_at=local_dt(dt.date(2030, 3, 1), 17, 0))
    messages.queue_offer_expired(registration)
    message = only_message("waitlist_offer_expired")
    text, html = parts(message)
    assert message.subject == "Seat offer expired: Bread & Butter's Basics"
    both(text, html, "was not claimed in time (by Friday, March 1, 5:00 PM CST)")
    both(text, html, "no longer on the waitlist")
    assert registration.course.get_absolute_url() in text
    assert manage_link_email(text) == registration.order.email


def _cancelled(course, *, when, channel=Order.Channel.ONLINE, price=Decimal("45.00"), confirmed=True):
    order = OrderFactory(channel=channel)
    return RegistrationFactory(order=order, course=course, status=S.CANCELLED, price=price, cancelled_at=when,
                               confirmed_at=when - dt.timedelta(days=10) if confirmed else None)


def test_cancellation_with_a_refund_to_the_card(course):
    """Finance, which settled the refund, says how it comes back (``refunds``)."""
    registration = _cancelled(course, when=course.registration_closes_at - dt.timedelta(days=1))
    card = RefundNote(parts=(RefundPart(provider="card", amount=Decimal("45.00")),))
    messages.queue_cancelled(registration, was=S.CONFIRMED, refunds=card)
    message = only_message("registration_cancelled")
    text, html = parts(message)
    assert message.subject == "Registration cancelled: Bread & Butter's Basics"
    both(text, html, "is cancelled")
    both(text, html, "$45.00 goes back to the card you paid with. " + TIMING["card"])
    assert "No refund" not in text and "left the waitlist" not in text
    assert manage_link_email(text) == registration.order.email


def test_cancellation_with_a_refund_issued_by_the_library(course):
    registration = _cancelled(course, when=course.registration_closes_at - dt.timedelta(days=1),
                              channel=Order.Channel.DESK)
    check = RefundNote(parts=(RefundPart(provider="check", amount=Decimal("45.00")),))
    messages.queue_cancelled(registration, was=S.CONFIRMED, refunds=check)
    text, html = parts(only_message("registration_cancelled"))
    both(text, html, "$45.00 you paid by check is paid back by the library. " + TIMING["library"])
    assert "card" not in text


def test_cancellation_after_registration_closed_has_no_refund(course):
    registration = _cancelled(course, when=course.registration_closes_at + dt.timedelta(hours=1))
    messages.queue_cancelled(registration, was=S.CONFIRMED)
    text, html = parts(only_message("registration_cancelled"))
    both(text, html, "No refund is due for this cancellation")
    both(text, html, "the last day to cancel for a full refund was Mon, Feb 25")
    assert "A refund of" not in text and "A refund of" not in html


def test_leaving_the_waitlist(course):
    registration = _cancelled(course, when=timezone.now(), confirmed=False)
    messages.queue_cancelled(registration, was=S.WAITLISTED)
    message = only_message("registration_cancelled")
    text, html = parts(message)
    assert message.subject == "You left the waitlist: Bread & Butter's Basics"
    both(text, html, "You have left the waitlist")
    assert "refund" not in text.lower() and "refund" not in html.lower()


def test_manage_link(site):  # noqa: F811  (the fixture from mail_checks)
    OrderFactory(email="pat.reader@example.org")
    messages.queue_manage_link("Pat.Reader@Example.org")
    message = only_message("manage_link")
    text, html = parts(message)
    assert message.subject == 'Your "My registrations" link — Lifelong Learning'
    assert manage_link_email(text) == "pat.reader@example.org"
    assert "example.org" not in re.search(r"/my/([^/\s]+)/", text).group(1)  # no address in the link
    assert re.search(r'href="http://127\.0\.0\.1:8000/my/[^"]+/"', html)
    both(text, html, "do not forward this e-mail")
    both(text, html, "Salina Public Library")
