"""Outbox delivery against a real SMTP server (aiosmtpd on 127.0.0.1), with faults: the server
down, a recipient refused for good (550), a greylisting server (451 twice, then OK)."""

import base64
import datetime as dt

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from classes.ics import course_calendar
from core import outbox
from core.models import OutboxMessage
from tests.factories import course_with_meetings
from tests.smtp_server import RecordingHandler, smtp  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

PATRON = "patron@example.org"


def queue_message(course=None) -> OutboxMessage:
    course = course or course_with_meetings(weekly=2, title="Bread Baking")
    ics = course_calendar(course, course_url="http://127.0.0.1:8000/c/", host="127.0.0.1")
    return OutboxMessage.objects.create(
        dedupe_key="confirmation:1:1", template="registration_confirmed", to=PATRON,
        subject="You're registered: Bread Baking", body_text="See you in class.\n",
        body_html="<p>See you in class.</p>",
        attachments=[{"filename": f"{course.slug}.ics", "mimetype": "text/calendar",
                      "content_b64": base64.b64encode(ics).decode()}],
    )


def sweep_and_deliver(now: dt.datetime) -> list[str]:
    """What the beat schedule does: the sweep picks the due ids, a worker delivers each."""
    return [outbox.outbox_deliver_one(message_id=message_id, now=now) for message_id in outbox.outbox_due_ids(now=now)]


def test_smtp_down_then_up_delivers_exactly_once(smtp):  # noqa: F811
    message = queue_message()
    now = timezone.now()

    # Nothing listens on the port: connection refused, a temporary failure.
    assert outbox.outbox_deliver_one(message_id=message.pk, now=now) == outbox.RETRY
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at == now + dt.timedelta(minutes=1)
    assert sweep_and_deliver(now) == []  # not due yet

    handler = smtp.start()
    later = message.next_attempt_at + dt.timedelta(seconds=1)
    assert sweep_and_deliver(later) == [outbox.SENT]
    assert sweep_and_deliver(later + dt.timedelta(hours=1)) == []  # and never again
    assert outbox.outbox_deliver_one(message_id=message.pk, now=later) == outbox.SKIPPED

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 2 and message.sent_at == later
    assert len(handler.messages) == 1
    received = handler.messages[0]
    assert received["Subject"] == "You're registered: Bread Baking"
    assert received["To"] == PATRON
    assert received.get_body(preferencelist=("plain",)).get_content().strip() == "See you in class."
    assert "See you in class." in received.get_body(preferencelist=("html",)).get_content()
    attachments = list(received.iter_attachments())
    assert [a.get_filename() for a in attachments] == [message.attachments[0]["filename"]]
    assert attachments[0].get_content_type() == "text/calendar"
    payload = attachments[0].get_payload(decode=True)
    calendar = icalendar.Calendar.from_ical(payload)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 2 and str(events[0]["SUMMARY"]) == "Bread Baking"


def test_recipient_refused_for_good_is_failed_and_shown_to_staff(smtp, staff_client):  # noqa: F811
    handler = smtp.start(RecordingHandler(rcpt_always=f"550 5.1.1 <{PATRON}>: Recipient address rejected"))
    message = queue_message()

    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.FAILED
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 1
    assert "550 5.1.1" in message.last_error and "Recipient address rejected" in message.last_error
    assert PATRON not in message.last_error and "@" not in message.last_error
    assert handler.messages == [] and handler.refused == 1
    assert outbox.outbox_due_ids(now=timezone.now() + dt.timedelta(days=1)) == []  # never retried by itself

    page = staff_client.get(reverse("admin:core_outboxmessage_changelist"), {"status__exact": "failed"})
    html = page.content.decode()
    assert "✖ Failed" in html and "550 5.1.1" in html


def test_greylisting_server_delivers_once_after_retries(smtp):  # noqa: F811
    handler = smtp.start(RecordingHandler(rcpt_replies=["451 4.7.1 Greylisted, please try again later"] * 2))
    message = queue_message()
    now = timezone.now()

    assert outbox.outbox_deliver_one(message_id=message.pk, now=now) == outbox.RETRY
    message.refresh_from_db()
    assert "451 4.7.1" in message.last_error and message.attempts == 1
    now = message.next_attempt_at
    assert sweep_and_deliver(now) == [outbox.RETRY]
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == now + dt.timedelta(minutes=2)
    now = message.next_attempt_at
    assert sweep_and_deliver(now) == [outbox.SENT]
    assert sweep_and_deliver(now + dt.timedelta(hours=2)) == []

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 3
    assert handler.refused == 2 and len(handler.messages) == 1
    assert handler.messages[0]["Subject"] == "You're registered: Bread Baking"
