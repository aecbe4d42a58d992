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


# --- batches: many messages over one connection -------------------------------------------------

class CountingHandler(RecordingHandler):
    """Also counts the SMTP connections (aiosmtpd calls ``handle_EHLO`` once per session) and
    refuses one recipient for good."""

    def __init__(self, *, refuse: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.sessions = 0
        self.refuse = refuse

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 (aiosmtpd's name)
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.refuse:
            self.refused += 1
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def batch_of(n: int, *, bad: int | None = None) -> list[OutboxMessage]:
    course = course_with_meetings(weekly=1, title="Bread Baking")
    ics = course_calendar(course, course_url="http://127.0.0.1:8000/c/", host="127.0.0.1")
    [refs] = outbox._store_attachments([[{"filename": "class.ics", "mimetype": "text/calendar",
                                          "content_b64": base64.b64encode(ics).decode()}]])
    return [OutboxMessage.objects.create(
        dedupe_key=f"batch:{i}", template="registration_confirmed",
        to="bad@example.org" if i == bad else f"patron{i}@example.org",
        subject=f"Message {i}", body_text=f"Message number {i}.\n", body_html=f"<p>Message number {i}.</p>",
        attachments=refs,
    ) for i in range(n)]


def test_a_batch_is_sent_over_one_connection_each_message_once(smtp):  # noqa: F811
    handler = smtp.start(CountingHandler())
    messages = batch_of(25)
    ids = [m.pk for m in messages]

    outcomes = outbox.outbox_deliver_batch(message_ids=ids + ids[:3])  # an id twice: sent once
    assert outcomes == {pk: outbox.SENT for pk in ids}
    assert handler.sessions == 1
    assert sorted(str(m["Subject"]) for m in handler.messages) == sorted(f"Message {i}" for i in range(25))
    assert all(m.get_payload()[1].get_filename() == "class.ics" for m in handler.messages)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxMessage.Status.SENT, 1)}
    # The same batch again (a redelivered task): nothing more is sent.
    assert set(outbox.outbox_deliver_batch(message_ids=ids).values()) == {outbox.SKIPPED}
    assert len(handler.messages) == 25 and handler.sessions == 1


def test_one_bad_recipient_in_a_batch_fails_alone_and_the_others_are_sent_once(smtp, staff_client):  # noqa: F811
    handler = smtp.start(CountingHandler(refuse="bad@example.org"))
    messages = batch_of(10, bad=4)
    outcomes = outbox.outbox_deliver_batch(message_ids=[m.pk for m in messages])

    assert [outcomes[m.pk] for m in messages] == [outbox.SENT] * 4 + [outbox.FAILED] + [outbox.SENT] * 5
    assert sorted(str(m["Subject"]) for m in handler.messages) == sorted(f"Message {i}" for i in range(10) if i != 4)
    assert handler.refused == 1
    assert handler.sessions == 2  # after the refusal the next message opens a fresh connection
    bad = OutboxMessage.objects.get(pk=messages[4].pk)
    assert bad.status == OutboxMessage.Status.FAILED and "550 5.1.1" in bad.last_error and "@" not in bad.last_error
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).count() == 9
    page = staff_client.get(reverse("admin:core_outboxmessage_changelist"), {"status__exact": "failed"})
    assert "550 5.1.1" in page.content.decode()


def test_a_batch_with_the_server_down_keeps_every_message_pending_then_sends_each_once(smtp):  # noqa: F811
    messages = batch_of(5)
    ids = [m.pk for m in messages]
    now = timezone.now()
    assert set(outbox.outbox_deliver_batch(message_ids=ids, now=now).values()) == {outbox.RETRY}
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxMessage.Status.PENDING, 1)}

    handler = smtp.start(CountingHandler())
    later = now + dt.timedelta(minutes=1)
    assert outbox.outbox_due_ids(now=later) == ids
    assert set(outbox.outbox_deliver_batch(message_ids=ids, now=later).values()) == {outbox.SENT}
    assert len(handler.messages) == 5 and handler.sessions == 1
