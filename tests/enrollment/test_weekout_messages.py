"""The week-out messages, rendered through enrollment.messages with realistic objects: the
reminder (with the venue's map embedded inline and delivered as a related MIME part), the
cancellation with its refund, the nudge, the instructor's roster, cancellation and nudge, and the
script staff read on the phone to patrons without e-mail."""

import base64
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from classes.management.demo.maps import venue_map_png
from classes.models import Course
from core.models import OutboxMessage
from core.outbox import _build_email, outbox_attachment_bytes, outbox_deliver_one
from enrollment import messages
from enrollment.models import CallListEntry, Order, Registration
from finance.refund_words import TIMING, RefundNote, RefundPart
from tests.enrollment.mail_checks import both, only_message, parts, site  # noqa: F401  (site: autouse fixture)
from tests.factories import (
    CourseDecisionFactory,
    InstructorFactory,
    MeetingFactory,
    OrderFactory,
    OutboxMessageFactory,
    RegistrationFactory,
    VenueFactory,
    course_with_meetings,
    local_dt,
)

pytestmark = pytest.mark.django_db
S = Registration.Status
Topic = CallListEntry.Topic

# Two meetings either side of the 2030 switch to daylight time (Sunday, March 10): both at 6:30 pm
# local — 00:30 UTC the next day in winter, 23:30 UTC in summer.
FIRST = dt.date(2030, 3, 5)


def png(width=600, height=400, color=(31, 58, 95)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def venue():
    venue = VenueFactory(name="Community Kitchen", slug="community-kitchen", street_address="125 S 7th St",
                         city="Salina", postal_code="67401", accessibility_notes="Ramp at the east door & wide aisles.",
                         parking_notes="Free lot behind the building; street parking on 7th.")
    venue.map_image.save("community-kitchen.png", ContentFile(venue_map_png(venue)))
    return venue


@pytest.fixture
def course(venue):
    return course_with_meetings(
        first=local_dt(FIRST, 18, 30), weekly=2, minutes=90, title="Bread & Butter's Basics", venue=venue,
        what_to_bring="An apron & a 9-inch loaf pan.", fee=Decimal("45.00"), minimum=4, capacity=10,
        instructor=InstructorFactory(first_name="Maria", last_name="Lopez", email="maria.lopez@example.org"),
    )


@pytest.fixture
def registration(course):
    order = OrderFactory(first_name="Dana", last_name="Whitfield", email="dana@example.org",
                         channel=Order.Channel.ONLINE)
    return RegistrationFactory(course=course, order=order, attendee_first_name="Sam", attendee_last_name="Whitfield")


def deliver(message: OutboxMessage):
    """Send ``message`` through the real delivery path to the locmem backend; the MIME message."""
    assert outbox_deliver_one(message_id=message.pk) == "sent"
    assert len(mail.outbox) == 1
    return mail.outbox[0].message()


# --- the reminder ------------------------------------------------------------------------------

def test_reminder_holds_every_fact_in_html_and_text(registration, course, venue):
    messages.queue_reminder(registration)
    message = only_message("reminder")
    assert message.to == "dana@example.org"
    assert message.subject == "Reminder: Bread & Butter's Basics starts Tuesday, March 5 at 6:30 PM"
    text, html = parts(message, images=True)

    both(text, html, "Bread & Butter's Basics")
    both(text, html, "Sam Whitfield")
    both(text, html, "Community Kitchen")
    both(text, html, "125 S 7th St, Salina, KS 67401")
    both(text, html, venue.directions_url)
    assert f'href="{escape(venue.directions_url)}"' in html
    # every meeting, in local time on both sides of the daylight-saving switch
    both(text, html, "Tuesday, March 5, 2030, 6:30 PM to 8:00 PM CST")
    both(text, html, "Tuesday, March 12, 2030, 6:30 PM to 8:00 PM CDT")
    both(text, html, "An apron & a 9-inch loaf pan.")
    both(text, html, "Free lot behind the building; street parking on 7th.")
    both(text, html, "Ramp at the east door & wide aisles.")
    both(text, html, "Maria Lopez")
    # the map: one inline image, referenced by its Content-ID, with a text alternative
    assert html.count("<img") == 1
    img = re.search(r"<img[^>]*>", html).group(0)
    assert 'src="cid:venue-map"' in img and 'alt="Map of Community Kitchen' in img
    assert 'width="560"' in img and 'height="373"' in img
    [attachment] = message.attachments
    assert attachment["cid"] == "venue-map" and attachment["mimetype"] == "image/png"
    with venue.map_image.open("rb") as file:
        assert outbox_attachment_bytes(attachment) == file.read()  # the venue's own file, unchanged


def test_reminder_map_is_an_inline_part_related_to_the_html(registration, venue):
    messages.queue_reminder(registration)
    sent = deliver(only_message("reminder"))

    # multipart/alternative: text/plain, then multipart/related (text/html + the image)
    assert sent.get_content_type() == "multipart/alternative"
    plain, related = sent.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    html_part, image_part = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert 'src="cid:venue-map"' in html_part.get_payload(decode=True).decode()
    assert image_part.get_content_type() == "image/png"
    assert image_part["Content-ID"] == "<venue-map>"
    assert image_part.get_content_disposition() == "inline"
    data = image_part.get_payload(decode=True)
    with venue.map_image.open("rb") as file:
        assert data == file.read()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (600, 400)
    # nothing is an ordinary attachment, and the text part stands alone with the links
    assert not [p for p in sent.walk() if p.get_content_disposition() == "attachment"]
    text = plain.get_payload(decode=True).decode()
    assert venue.directions_url in text and "125 S 7th St" in text


def test_reminder_without_a_map_image_is_complete_and_has_no_broken_image(registration, course):
    venue = VenueFactory(name="Story Room", street_address="301 W Elm St", parking_notes="Library lot.",
                         accessibility_notes="Elevator from the lobby.")
    course.venue = venue
    course.save()
    messages.queue_reminder(registration)
    message = only_message("reminder")
    text, html = parts(message)  # no <img> at all
    assert message.attachments == []
    both(text, html, "301 W Elm St, Salina, KS 67401")
    both(text, html, venue.directions_url)
    both(text, html, "Library lot.")
    both(text, html, "Elevator from the lobby.")
    sent = deliver(message)
    assert sent.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in sent.get_payload()] == ["text/plain", "text/html"]


@pytest.mark.parametrize("problem", ["not-an-image", "file-gone"])
def test_reminder_with_a_broken_or_missing_map_file_sends_without_it(registration, venue, problem):
    if problem == "not-an-image":
        venue.map_image.save("broken.png", ContentFile(b"this is not a PNG"))
    else:
        venue.map_image.storage.delete(venue.map_image.name)
    messages.queue_reminder(registration)
    message = only_message("reminder")
    text, html = parts(message)
    assert message.attachments == []
    both(text, html, venue.directions_url)


def test_a_huge_map_upload_is_scaled_down_before_it_is_attached(registration, venue):
    venue.map_image.save("huge.png", ContentFile(png(3000, 2000)))
    messages.queue_reminder(registration)
    message = only_message("reminder")
    [attachment] = message.attachments
    with Image.open(io.BytesIO(outbox_attachment_bytes(attachment))) as image:
        assert image.size == (1200, 800)
    assert 'width="560" height="373"' in message.body_html


def test_a_meeting_elsewhere_is_listed_with_its_own_address(registration, course):
    hall = VenueFactory(name="Fellowship Hall", street_address="620 S Walnut St")
    MeetingFactory(course=course, venue=hall, starts_at=local_dt(FIRST + dt.timedelta(days=14), 18, 30),
                   ends_at=local_dt(FIRST + dt.timedelta(days=14), 20))
    messages.queue_reminder(registration)
    text, html = parts(only_message("reminder"), images=True)
    both(text, html, "Tuesday, March 19, 2030, 6:30 PM to 8:00 PM CDT")
    both(text, html, "Fellowship Hall, 620 S Walnut St, Salina, KS 67401")
    both(text, html, hall.directions_url)


def test_no_reminder_without_an_email_address(course):
    registration = RegistrationFactory(course=course, order=OrderFactory(email="", channel=Order.Channel.DESK))
    messages.queue_reminder(registration)
    messages.queue_course_cancelled(registration)
    messages.queue_nudge(registration, 2)
    assert not OutboxMessage.objects.exists()


# --- the cancellation ------------------------------------------------------------------------------

def cancel(registration: Registration) -> Registration:
    """What the week-out run does before it writes the message: the course and the seat cancelled."""
    registration.course.status = Course.Status.CANCELLED
    registration.course.save()
    registration.status, registration.cancelled_at = S.CANCELLED, timezone.now()
    registration.save()
    return registration


def note(*parts) -> RefundNote:
    """Finance's note of how a refund comes back (what ``refunds_settle`` passes on)."""
    return RefundNote(parts=tuple(RefundPart(provider=p, amount=Decimal(a)) for p, a in parts))


def test_cancellation_says_why_and_refunds_the_full_price_to_the_card(registration):
    messages.queue_course_cancelled(cancel(registration), refunds=note(("card", "45.00")))
    message = only_message("course_cancelled")
    assert message.subject == "Class cancelled: Bread & Butter's Basics — full refund"
    text, html = parts(message)
    both(text, html, "is cancelled because too few people registered (it needed at least 4 to run)")
    both(text, html, "Tuesday, March 5, 2030 at 6:30 PM CST")
    both(text, html, "Sam Whitfield")
    both(text, html, "$45.00 goes back to the card you paid with. " + TIMING["card"])


def test_cancellation_of_a_cash_or_check_registration_is_refunded_by_the_library(course):
    order = OrderFactory(email="desk@example.org", channel=Order.Channel.DESK)
    registration = cancel(RegistrationFactory(course=course, order=order))
    messages.queue_course_cancelled(registration, refunds=note(("check", "45.00")))
    text, html = parts(only_message("course_cancelled"))
    both(text, html, "$45.00 you paid by check is paid back by the library. " + TIMING["library"])
    assert "card" not in text


def test_cancellation_of_a_free_class_refunds_nothing(course):
    course.fee = Decimal("0.00")
    course.save()
    registration = cancel(RegistrationFactory(course=course, price=Decimal("0.00")))
    messages.queue_course_cancelled(registration)
    message = only_message("course_cancelled")
    text, html = parts(message)
    both(text, html, "Nothing was charged for this registration, so there is nothing to refund.")
    assert "refund" not in message.subject and "$" not in text


def test_a_class_staff_cancelled_gives_their_reason_not_too_few(registration, course):
    CourseDecisionFactory(course=course, outcome="cancelled", automatic=False, confirmed_count=6, minimum=4,
                          reason="The kitchen flooded")
    cancel(registration)
    registration.course.refresh_from_db()  # the decision, as the run sees it
    messages.queue_course_cancelled(registration)
    messages.queue_instructor_cancelled(registration.course)
    for template in ("course_cancelled", "instructor_cancelled"):
        message = only_message(template)
        text, html = parts(message)
        assert "too few" not in (text + html + message.subject).lower(), template
        both(text, html, "The reason: The kitchen flooded")
    script = messages.call_script(registration, Topic.CANCELLATION, refunds=note(("card", "45.00")))
    assert "too few" not in script and "The reason: The kitchen flooded." in script
    assert "full refund of everything they paid" in script and "$" not in script


def test_a_class_staff_cancelled_early_under_its_minimum_gives_their_reason_not_too_few(course, django_user_model):
    """Staff cancelled a class before its cutoff, while it was (as most are then) under its
    minimum, for a reason of their own: the instructor is told that reason, not "too few"."""
    from enrollment.services.weekout import course_decide

    RegistrationFactory(course=course)  # 1 confirmed of the 4 needed
    course.status = Course.Status.OPEN
    course.save()
    course_decide(course_id=course.pk, force="cancel", reason="The instructor broke her wrist",
                  actor=django_user_model.objects.create_user("coordinator"), now=timezone.now())
    message = only_message("instructor_cancelled")
    text, html = parts(message)
    assert message.subject == "Class cancelled: Bread & Butter's Basics"
    assert "too few" not in (text + html).lower()
    both(text, html, "The reason: The instructor broke her wrist")
    assert "It had 1 registered" not in text


# --- the nudge -------------------------------------------------------------------------------------

def test_nudge_asks_for_help_with_the_number_needed_and_a_link_to_share(registration, course):
    messages.queue_nudge(registration, 3)
    message = only_message("nudge")
    assert message.dedupe_key == f"nudge:{course.pk}:{registration.pk}"
    assert message.subject == "Help Bread & Butter's Basics run — 3 more needed"
    text, html = parts(message)
    both(text, html, "Help this class run")
    assert "3 more need to register by Mon, Feb 25." in text
    url = messages.absolute(course.get_absolute_url())
    assert url in text and f'href="{url}"' in html
    assert "refund you in full" in text


def test_nudge_for_one_more_person(registration):
    messages.queue_nudge(registration, 1)
    text, html = parts(only_message("nudge"))
    assert "1 more needs to register" in text and "1 more</strong> needs to register" in html


# --- the instructor -----------------------------------------------------------------------------------

def test_instructor_roster_lists_names_only_and_the_first_class_checklist(course, registration):
    RegistrationFactory(course=course, attendee_first_name="Ann", attendee_last_name="Zeller",
                        order=OrderFactory(email="ann@example.org", phone="785-555-0123"))
    RegistrationFactory(course=course, attendee_first_name="Bo", attendee_last_name="Adams",
                        order=OrderFactory(email="", phone="785-555-0456", channel=Order.Channel.DESK))
    RegistrationFactory(course=course, attendee_first_name="Wes", attendee_last_name="Waitlisted", status=S.WAITLISTED)
    RegistrationFactory(course=course, attendee_first_name="Cy", attendee_last_name="Cancelled", status=S.CANCELLED)
    messages.queue_instructor_roster(course)
    message = only_message("instructor_roster")
    assert message.to == "maria.lopez@example.org"
    assert message.dedupe_key == f"instructor-roster:{course.pk}"
    assert message.subject == "Your class runs: Bread & Butter's Basics — final roster (3)"
    text, html = parts(message)
    # confirmed attendees only, by last name, and nothing else about them
    assert re.search(r"1\. Bo Adams\s+2\. Sam Whitfield\s+3\. Ann Zeller", text)
    assert html.index("Bo Adams") < html.index("Sam Whitfield") < html.index("Ann Zeller")
    for private in ("Waitlisted", "Cancelled", "785-555-0123", "785-555-0456", "ann@example.org",
                    "dana@example.org", "$", "45.00", "scholarship", "Pass the Buck", "Dana"):
        assert private not in text and private not in html, private
    both(text, html, "library staff will come to the start of your first class")
    both(text, html, "Tuesday, March 5 at 6:30 PM")
    both(text, html, "Thank you for sharing what you know")
    both(text, html, "An apron & a 9-inch loaf pan.")


def test_instructor_cancelled_states_the_count_of_the_decision(course):
    CourseDecisionFactory(course=course, outcome="cancelled", confirmed_count=2, minimum=4)
    messages.queue_instructor_cancelled(course)
    message = only_message("instructor_cancelled")
    assert message.subject == "Class cancelled: Bread & Butter's Basics (too few registrations)"
    text, html = parts(message)
    both(text, html, "It had 2 registered and needed at least 4 to run.")
    both(text, html, "each of them gets a full refund")


def test_instructor_nudge(course):
    messages.queue_instructor_nudge(course, 2)
    message = only_message("instructor_nudge")
    assert message.subject == "Bread & Butter's Basics needs 2 more to run"
    text, html = parts(message)
    both(text, html, "has 2 registered and needs at least 4 to run")
    assert messages.absolute(course.get_absolute_url()) in text


def test_no_instructor_message_without_an_instructor_address(course):
    course.instructor.email = ""
    course.instructor.save()
    messages.queue_instructor_roster(course)
    messages.queue_instructor_cancelled(course)
    messages.queue_instructor_nudge(course, 1)
    assert not OutboxMessage.objects.exists()


# --- once each -----------------------------------------------------------------------------------

def test_each_message_is_queued_once(registration, course):
    for _ in range(2):
        messages.queue_reminder(registration)
        messages.queue_course_cancelled(registration)
        messages.queue_nudge(registration, 2)
        messages.queue_instructor_roster(course)
        messages.queue_instructor_cancelled(course)
        messages.queue_instructor_nudge(course, 2)
    keys = sorted(OutboxMessage.objects.values_list("dedupe_key", flat=True))
    assert keys == sorted([
        f"reminder:{registration.pk}", f"course-cancelled:{registration.pk}", f"nudge:{course.pk}:{registration.pk}",
        f"instructor-roster:{course.pk}", f"instructor-cancelled:{course.pk}", f"instructor-nudge:{course.pk}",
    ])


# --- what staff say on the phone -----------------------------------------------------------------

def test_call_script_for_a_cancellation_states_the_refund(registration):
    script = messages.call_script(cancel(registration), Topic.CANCELLATION, refunds=note(("card", "45.00")))
    assert "Salina Public Library" in script and "Dana Whitfield" in script and "Sam Whitfield" in script
    assert "cancelled because too few people registered" in script
    assert "full refund of everything they paid back on the card" in script

    desk = cancel(RegistrationFactory(course=registration.course, order=OrderFactory(email="", channel="desk")))
    script = messages.call_script(desk, "cancellation", refunds=note(("cash", "45.00")))
    assert "full refund of everything they paid" in script and "cash or check" in script and "card" not in script


def test_call_script_for_a_reminder_gives_the_first_meeting_and_the_place(registration):
    script = messages.call_script(registration, Topic.REMINDER)
    assert "the first meeting is Tuesday, March 5 at 6:30 PM" in script
    assert "Community Kitchen, 125 S 7th St, Salina, KS 67401" in script
    assert "the last meeting is Tuesday, March 12 at 6:30 PM" in script  # local time after the DST switch
    assert "Parking: Free lot behind the building" in script
    assert "Please bring: An apron & a 9-inch loaf pan." in script
    assert "The instructor is Maria Lopez." in script


def test_call_script_for_a_nudge_gives_the_number_needed(registration, course):
    script = messages.call_script(registration, Topic.NUDGE, needed=3)
    assert "needs 3 more people to register by Mon, Feb 25 or it will be cancelled" in script
    # counted now when not given: minimum 4, one confirmed
    assert "needs 3 more people" in messages.call_script(registration, Topic.NUDGE)
    RegistrationFactory.create_batch(2, course=course)
    assert "needs 1 more person" in messages.call_script(registration, Topic.NUDGE)


def test_call_script_of_someone_calling_about_themself(course):
    order = OrderFactory(first_name="Lee", last_name="Park", email="")
    registration = RegistrationFactory(course=course, order=order, attendee_first_name="Lee", attendee_last_name="Park")
    script = messages.call_script(registration, Topic.REMINDER)
    assert "calling for Lee Park about their registration" in script


def test_call_script_refuses_an_unknown_topic(registration):
    with pytest.raises(ValueError):
        messages.call_script(registration, "gossip")


# --- the outbox: inline images -------------------------------------------------------------------

def test_an_inline_image_without_an_html_part_is_an_ordinary_attachment():
    content = png(10, 10)
    message = OutboxMessageFactory(status=OutboxMessage.Status.PENDING, body_html="", attempts=0, last_error="",
                                   attachments=[{"filename": "map.png", "mimetype": "image/png", "cid": "venue-map",
                                                 "content_b64": base64.b64encode(content).decode()}])
    email = _build_email(message).message()
    [image] = [p for p in email.walk() if p.get_content_type() == "image/png"]
    assert image.get_content_disposition() == "attachment"
    assert email.get_content_type() == "multipart/mixed"


def test_inline_image_and_an_ordinary_attachment_together():
    content = png(10, 10)
    message = OutboxMessageFactory(
        status=OutboxMessage.Status.PENDING, body_html='<p>Map: <img src="cid:venue-map" alt="map"></p>',
        attempts=0, last_error="",
        attachments=[
            {"filename": "map.png", "mimetype": "image/png", "cid": "venue-map",
             "content_b64": base64.b64encode(content).decode()},
            {"filename": "class.ics", "mimetype": "text/calendar",
             "content_b64": base64.b64encode(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").decode()},
        ],
    )
    email = _build_email(message).message()
    assert email.get_content_type() == "multipart/mixed"
    alternative, calendar = email.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert calendar.get_content_type() == "text/calendar" and calendar.get_content_disposition() == "attachment"
    related = alternative.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    assert [p.get_content_type() for p in related.get_payload()] == ["text/html", "image/png"]
    assert related.get_payload()[1]["Content-ID"] == "<venue-map>"


def test_reminders_queued_together_carry_each_patrons_own_link_and_the_shared_context(course):
    """``queue_reminders`` builds the patron's part of the context itself (the options and the
    links read once for the run): the same keys as ``common.base_context``, each patron's own
    "My registrations" link (their latest order's), once per registration."""
    from enrollment.links import manage_url
    from enrollment.messages import common

    older = OrderFactory(first_name="Ann", email="ann@example.org", channel=Order.Channel.ONLINE)
    mine = RegistrationFactory(course=course, order=older)
    OrderFactory(first_name="Ann", email="ANN@example.org")  # her latest order: the link's
    other = RegistrationFactory(course=course, order=OrderFactory(first_name="Bo", email="bo@example.org"))
    no_email = RegistrationFactory(course=course, order=OrderFactory(email=""))
    assert set(common.base_context(older)) == {"site", "order", "buyer_first_name", "manage_url", "site_url"}, (
        "base_context changed: queue_reminders builds the same keys; update it too")

    ids = messages.queue_reminders([mine, other, no_email])
    assert messages.queue_reminders([mine, other, no_email]) == []  # once per registration
    rows = {m.to: m for m in OutboxMessage.objects.filter(pk__in=ids)}
    assert set(rows) == {"ann@example.org", "bo@example.org"}
    assert manage_url("ann@example.org") in rows["ann@example.org"].body_text
    assert manage_url("bo@example.org") in rows["bo@example.org"].body_text
    assert manage_url("bo@example.org") not in rows["ann@example.org"].body_text
    assert "Hello Ann," in rows["ann@example.org"].body_text and "Hello Bo," in rows["bo@example.org"].body_text
    # one stored map for both
    assert rows["ann@example.org"].attachments == rows["bo@example.org"].attachments
