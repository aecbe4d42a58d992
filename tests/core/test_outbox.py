"""The outbox: queue once per dedupe key, deliver at most once, retry with backoff, fail for
staff to see, sweep what is due, and the back office's list and "Retry now"."""

import base64
import datetime as dt
import queue
import smtplib
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import outbox, tasks
from core.models import OutboxMessage, SiteOptions
from tests.smtp_server import require_postgres

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"
PATRON = "patron@example.org"


def make_message(**kwargs) -> OutboxMessage:
    fields = {
        "dedupe_key": "test:1", "template": "manage_link", "to": PATRON, "subject": "Hello there",
        "body_text": "Plain text body.\n", "body_html": "<p>HTML body.</p>",
        "attachments": [{"filename": "class.ics", "mimetype": "text/calendar",
                         "content_b64": base64.b64encode(ICS).decode()}],
    } | kwargs
    return OutboxMessage.objects.create(**fields)


class FailingBackend(BaseEmailBackend):
    """Raises ``FailingBackend.error`` on every send (set by the test)."""

    error: Exception = OSError("boom")

    def send_messages(self, email_messages):
        raise self.error


@pytest.fixture
def failing(settings):
    settings.EMAIL_BACKEND = "tests.core.test_outbox.FailingBackend"
    return FailingBackend


@pytest.fixture
def queued(monkeypatch):
    """Record delivery tasks instead of sending them to a broker."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.outbox_deliver, "delay", lambda message_id: ids.append(message_id))
    monkeypatch.setattr(tasks.outbox_deliver_batch, "delay", lambda message_ids: ids.extend(message_ids))
    return ids


# --- enqueue ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_enqueue_twice_with_the_same_key_makes_one_row(django_capture_on_commit_callbacks, queued):
    context = {"site": SiteOptions.current(), "manage_url": "https://lib.example/my/abc", "site_url": "https://lib.example"}
    with django_capture_on_commit_callbacks(execute=True):
        first = outbox.outbox_enqueue(to=PATRON, template="manage_link", context=context, dedupe_key="k:1")
        second = outbox.outbox_enqueue(to=PATRON, template="manage_link", context=context, dedupe_key="k:1")
    assert first is not None and second is None
    assert OutboxMessage.objects.filter(dedupe_key="k:1").count() == 1
    assert queued == [first.pk]  # delivery queued once, after commit
    assert first.status == OutboxMessage.Status.PENDING
    assert "https://lib.example/my/abc" in first.body_text and "https://lib.example/my/abc" in first.body_html


@pytest.mark.django_db
def test_enqueue_without_an_address_queues_nothing():
    assert outbox.outbox_enqueue(to="", template="manage_link", context={}, dedupe_key="k:2") is None
    assert not OutboxMessage.objects.exists()


# --- delivery ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_delivery_sends_text_html_and_attachment_and_marks_sent():
    SiteOptions.objects.update_or_create(pk=SiteOptions.current().pk, defaults={"email": "classes@lib.example"})
    message = make_message()
    now = timezone.now()
    assert outbox.outbox_deliver_one(message_id=message.pk, now=now) == outbox.SENT

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.sent_at == now and message.attempts == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [PATRON] and sent.subject == "Hello there" and sent.from_email == settings.DEFAULT_FROM_EMAIL
    assert sent.body == "Plain text body.\n"
    assert sent.alternatives[0][0] == "<p>HTML body.</p>" and sent.alternatives[0][1] == "text/html"
    filename, content, mimetype = sent.attachments[0]
    assert filename == "class.ics" and mimetype == "text/calendar"
    assert (content.encode() if isinstance(content, str) else content) == ICS
    assert sent.reply_to == ["classes@lib.example"]
    assert sent.extra_headers["Message-ID"].startswith(f"<outbox.{message.pk}.")
    raw = sent.message().as_bytes()
    assert b"multipart/mixed" in raw and b"text/calendar" in raw and b"text/html" in raw


@pytest.mark.django_db
def test_delivering_twice_sends_once():
    message = make_message()
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.SENT
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.SKIPPED
    assert tasks.outbox_deliver(message.pk) is None  # the Celery task, run twice more
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_or_missing_message_is_not_sent():
    failed = make_message(status=OutboxMessage.Status.FAILED)
    assert outbox.outbox_deliver_one(message_id=failed.pk) == outbox.SKIPPED
    assert outbox.outbox_deliver_one(message_id=failed.pk + 1000) == outbox.SKIPPED
    assert mail.outbox == []


# --- two workers, one message: a real race on PostgreSQL -------------------------------------

class GatedBackend(BaseEmailBackend):
    """Records each send, then waits at the gate while the worker still holds its transaction."""

    sent: list = []
    started = threading.Semaphore(0)
    gate = threading.Event()

    def send_messages(self, email_messages):
        type(self).sent.extend(email_messages)
        type(self).started.release()
        assert type(self).gate.wait(timeout=15), "the test never opened the gate"
        return len(email_messages)


def _race(message_id: int) -> tuple[int, list[str]]:
    """Two threads deliver the same id at once; the first sender is held mid-send until the
    other one has finished (or has entered a send too). Returns (e-mails sent, outcomes)."""
    GatedBackend.sent, GatedBackend.started, GatedBackend.gate = [], threading.Semaphore(0), threading.Event()
    barrier, results = threading.Barrier(2), queue.Queue()

    def worker():
        try:
            barrier.wait(timeout=10)
            results.put(outbox.outbox_deliver_one(message_id=message_id))
        except Exception as exc:  # surfaced in the main thread
            results.put(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert GatedBackend.started.acquire(timeout=10), "nobody sent"
    outcomes = []
    # Either the other worker finishes (it skipped the locked row) or it starts a second send.
    try:
        outcomes.append(results.get(timeout=10))
    except queue.Empty:
        pass
    if not outcomes:
        pytest.fail("neither a second send nor a finished worker")
    GatedBackend.gate.set()
    for thread in threads:
        thread.join(timeout=15)
    while not results.empty():
        outcomes.append(results.get())
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    return len(GatedBackend.sent), sorted(outcomes)


@pytest.fixture
def gated(settings):
    require_postgres()
    settings.EMAIL_BACKEND = "tests.core.test_outbox.GatedBackend"


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_message_at_once_send_one_email(gated):
    message = make_message(dedupe_key="race:1")
    sent, outcomes = _race(message.pk)
    assert sent == 1
    assert outcomes == [outbox.SENT, outbox.SKIPPED]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 1


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_race_control_without_the_row_lock_sends_twice(gated, monkeypatch):
    """The control run: with locking switched off the same race sends the e-mail twice, which
    proves the test above can fail."""
    monkeypatch.setattr(outbox, "LOCKING", False)
    message = make_message(dedupe_key="race:control")
    # The second worker must enter its send too before the gate opens: wait for two sends.
    GatedBackend.sent, GatedBackend.started, GatedBackend.gate = [], threading.Semaphore(0), threading.Event()
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait(timeout=10)
            outbox.outbox_deliver_one(message_id=message.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert GatedBackend.started.acquire(timeout=10) and GatedBackend.started.acquire(timeout=10)
    GatedBackend.gate.set()
    for thread in threads:
        thread.join(timeout=15)
    assert len(GatedBackend.sent) == 2


# --- temporary and permanent failures --------------------------------------------------------

def test_backoff_doubles_from_one_minute_and_stops_at_an_hour():
    minutes = [outbox.outbox_backoff(n).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.django_db
def test_temporary_failure_keeps_it_pending_with_backoff_and_no_address_in_the_error(failing):
    failing.error = smtplib.SMTPRecipientsRefused({PATRON: (450, f"4.2.1 <{PATRON}>: mailbox busy".encode())})
    message = make_message()
    now = timezone.now()

    assert outbox.outbox_deliver_one(message_id=message.pk, now=now) == outbox.RETRY
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert message.next_attempt_at == now + dt.timedelta(minutes=1)
    assert "450" in message.last_error and "mailbox busy" in message.last_error
    assert "@" not in message.last_error

    # Not due yet: nothing happens. Due: the second attempt, then a 2-minute wait.
    assert outbox.outbox_deliver_one(message_id=message.pk, now=now + dt.timedelta(seconds=59)) == outbox.SKIPPED
    failing.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    later = now + dt.timedelta(minutes=1)
    assert outbox.outbox_deliver_one(message_id=message.pk, now=later) == outbox.RETRY
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == later + dt.timedelta(minutes=2)
    assert message.last_error.startswith("SMTPServerDisconnected")


@pytest.mark.django_db
def test_after_max_attempts_a_temporary_failure_becomes_failed(failing, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    failing.error = ConnectionRefusedError(111, "Connection refused")
    message = make_message()
    now = timezone.now()
    outcomes = []
    for _ in range(3):
        outcomes.append(outbox.outbox_deliver_one(message_id=message.pk, now=now))
        message.refresh_from_db()
        now = message.next_attempt_at or now
    assert outcomes == [outbox.RETRY, outbox.RETRY, outbox.FAILED]
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 3
    assert message.next_attempt_at is None and "Connection refused" in message.last_error
    assert outbox.outbox_deliver_one(message_id=message.pk, now=now + dt.timedelta(days=1)) == outbox.SKIPPED


@pytest.mark.django_db
@pytest.mark.parametrize("error", [
    smtplib.SMTPRecipientsRefused({PATRON: (550, b"5.1.1 <patron@example.org>: no such user")}),
    smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"),
    smtplib.SMTPSenderRefused(553, b"5.7.1 sender not allowed", "classes@library.example"),
], ids=["rcpt-550", "data-554", "sender-553"])
def test_permanent_smtp_failure_is_failed_at_once(failing, error):
    failing.error = error
    message = make_message()
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.FAILED
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 1
    assert str(error.args[0] if not isinstance(error, smtplib.SMTPRecipientsRefused) else 550) in message.last_error
    assert "@" not in message.last_error


@pytest.mark.django_db
@pytest.mark.parametrize("error", [
    smtplib.SMTPDataError(451, b"4.3.0 try again later"),
    smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"),  # our setup, not the message
    TimeoutError("timed out"),
], ids=["data-451", "auth-535", "timeout"])
def test_temporary_failures_stay_pending(failing, error):
    failing.error = error
    message = make_message()
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.RETRY
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING and message.next_attempt_at is not None


@pytest.mark.django_db
def test_a_bad_address_fails_at_once():
    message = make_message(to="patron@example.org\nBcc: everyone@example.org")
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.FAILED
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED and message.last_error
    assert "@" not in message.last_error
    assert mail.outbox == []


# --- the sweep ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_sweep_returns_due_pending_ids_only(queued):
    now = timezone.now()
    due_retry = make_message(dedupe_key="due-retry", next_attempt_at=now - dt.timedelta(seconds=1), attempts=1)
    due_now = make_message(dedupe_key="due-now", next_attempt_at=now, attempts=1)
    never_tried_old = make_message(dedupe_key="old")
    OutboxMessage.objects.filter(pk=never_tried_old.pk).update(created_at=now - dt.timedelta(minutes=5))
    make_message(dedupe_key="fresh")  # its own task is still on its way
    make_message(dedupe_key="later", next_attempt_at=now + dt.timedelta(minutes=1), attempts=1)
    make_message(dedupe_key="sent", status=OutboxMessage.Status.SENT, sent_at=now)
    make_message(dedupe_key="failed", status=OutboxMessage.Status.FAILED,
                 next_attempt_at=now - dt.timedelta(hours=1))

    due = outbox.outbox_due_ids(now=now)
    assert sorted(due) == sorted([due_retry.pk, due_now.pk, never_tried_old.pk])
    assert outbox.outbox_due_ids(now=now, limit=1) == [never_tried_old.pk]  # oldest first

    assert tasks.outbox_sweep() == 3  # the task, on the real clock: the same three
    assert sorted(queued) == sorted(due)


@pytest.mark.django_db
def test_sweep_then_deliver_sends_a_retry_that_is_due(failing, settings):
    message = make_message()
    now = timezone.now()
    outbox.outbox_deliver_one(message_id=message.pk, now=now)
    assert outbox.outbox_due_ids(now=now) == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = now + dt.timedelta(minutes=1)
    for message_id in outbox.outbox_due_ids(now=later):
        assert outbox.outbox_deliver_one(message_id=message_id, now=later) == outbox.SENT
    assert len(mail.outbox) == 1
    assert outbox.outbox_due_ids(now=later + dt.timedelta(hours=1)) == []


# --- the back office ------------------------------------------------------------------------

@pytest.mark.django_db
def test_admin_lists_failed_messages_with_their_error(staff_client):
    make_message(dedupe_key="f", status=OutboxMessage.Status.FAILED, attempts=1,
                 last_error="SMTPRecipientsRefused: 550 5.1.1 <address>: Recipient address rejected")
    make_message(dedupe_key="s", status=OutboxMessage.Status.SENT, subject="Already sent", sent_at=timezone.now())
    url = reverse("admin:core_outboxmessage_changelist")
    page = staff_client.get(url).content.decode()
    assert "✖ Failed" in page and "550 5.1.1" in page and "✔ Sent" in page
    failed_only = staff_client.get(url, {"status__exact": "failed"}).content.decode()
    assert "550 5.1.1" in failed_only and "Already sent" not in failed_only
    found = staff_client.get(url, {"q": "Already"}).content.decode()
    assert "Already sent" in found


@pytest.mark.django_db
def test_admin_is_read_only(staff_client):
    message = make_message()
    assert staff_client.get(reverse("admin:core_outboxmessage_add")).status_code == 403
    page = staff_client.get(reverse("admin:core_outboxmessage_change", args=[message.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    staff_client.post(reverse("admin:core_outboxmessage_change", args=[message.pk]), {"subject": "Changed"})
    message.refresh_from_db()
    assert message.subject == "Hello there"
    assert staff_client.get(reverse("admin:core_outboxmessage_delete", args=[message.pk])).status_code == 403


@pytest.mark.django_db
def test_admin_retry_now_puts_failed_back_and_delivers_but_never_resends(staff_client, monkeypatch):
    monkeypatch.setattr(tasks.outbox_deliver, "delay", lambda message_id: outbox.outbox_deliver_one(message_id=message_id))
    failed = make_message(dedupe_key="f", status=OutboxMessage.Status.FAILED, attempts=12,
                          last_error="ConnectionRefusedError: [Errno 111] Connection refused")
    sent = make_message(dedupe_key="s", status=OutboxMessage.Status.SENT, sent_at=timezone.now(), attempts=1)
    response = staff_client.post(
        reverse("admin:core_outboxmessage_changelist"),
        {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]}, follow=True,
    )
    assert response.status_code == 200
    assert "1 message(s) put back to pending" in response.content.decode()
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == OutboxMessage.Status.SENT and failed.attempts == 1
    assert sent.status == OutboxMessage.Status.SENT and sent.attempts == 1
    assert len(mail.outbox) == 1  # only the failed one, once


@pytest.mark.django_db
def test_retry_makes_the_message_due_now_even_when_the_broker_is_down(staff_client, monkeypatch):
    def broker_down(message_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.outbox_deliver, "delay", broker_down)
    failed = make_message(status=OutboxMessage.Status.FAILED, attempts=12, last_error="x")
    response = staff_client.post(reverse("admin:core_outboxmessage_changelist"),
                                 {"action": "retry_now", "_selected_action": [failed.pk]}, follow=True)
    assert "picked up by the next sweep" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == OutboxMessage.Status.PENDING and failed.attempts == 0
    assert failed.pk in outbox.outbox_due_ids(now=timezone.now())


# --- Celery wiring --------------------------------------------------------------------------

def test_beat_runs_the_outbox_sweep_and_hold_expiry_every_minute():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["core.outbox_sweep"] == 60
    assert schedule["enrollment.holds_expire"] == 60
    from config.celery import app

    app.loader.import_default_modules()
    assert {"core.outbox_deliver", "core.outbox_sweep", "enrollment.holds_expire"} <= set(app.tasks)


def test_holds_expire_task_calls_the_service(monkeypatch):
    from enrollment import services
    from enrollment import tasks as enrollment_tasks

    calls = []
    monkeypatch.setattr(services, "holds_expire", lambda **kw: calls.append(kw) or 3)
    assert enrollment_tasks.holds_expire() == 3
    assert calls == [{}]


def test_every_beat_entry_names_a_registered_task():
    from config.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


# --- batches and attachments stored once ------------------------------------------------------

@pytest.mark.django_db
def test_a_transaction_queues_one_batch_task_for_all_its_messages(django_capture_on_commit_callbacks, monkeypatch,
                                                                  settings):
    settings.OUTBOX_BATCH_SIZE = 2
    singles, batches = [], []
    monkeypatch.setattr(tasks.outbox_deliver, "delay", lambda message_id: singles.append(message_id))
    monkeypatch.setattr(tasks.outbox_deliver_batch, "delay", lambda message_ids: batches.append(message_ids))
    context = {"site": SiteOptions.current(), "manage_url": "https://lib.example/my/abc", "site_url": "https://lib.example"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = outbox.outbox_enqueue(to=PATRON, template="manage_link", context=context, dedupe_key="k:1")
        ids = outbox.outbox_enqueue_many([
            {"to": PATRON, "template": "manage_link", "context": context, "dedupe_key": f"k:{i}"} for i in (1, 2, 3)
        ])
        ids += outbox.outbox_enqueue_many([
            {"to": "", "template": "manage_link", "context": context, "dedupe_key": "k:9"},  # no address
            {"to": PATRON, "template": "manage_link", "context": context, "dedupe_key": "k:3"},  # queued just now
        ])
    assert len(callbacks) == 1  # one callback for the transaction, not one per message
    assert singles == []
    assert batches == [[first.pk, ids[0]], [ids[1]]]  # in batches of OUTBOX_BATCH_SIZE
    assert OutboxMessage.objects.count() == 3 and len(ids) == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_does_not_lose_the_transactions_other_messages(monkeypatch):
    from django.db import transaction

    delivered = []
    monkeypatch.setattr(tasks.outbox_deliver, "delay", lambda message_id: delivered.append([message_id]))
    monkeypatch.setattr(tasks.outbox_deliver_batch, "delay", lambda message_ids: delivered.append(message_ids))
    context = {"site": SiteOptions.current(), "manage_url": "https://lib.example/my/abc", "site_url": "https://lib.example"}

    def queue(key):
        return outbox.outbox_enqueue(to=PATRON, template="manage_link", context=context, dedupe_key=key)

    class Undo(Exception):
        pass

    with transaction.atomic():
        try:
            with transaction.atomic():
                queue("gone")  # registers the transaction's callback, then is rolled back with it
                raise Undo
        except Undo:
            pass
        kept = [queue("a").pk, queue("b").pk]
    assert delivered == [kept]
    assert list(OutboxMessage.objects.values_list("dedupe_key", flat=True).order_by("pk")) == ["a", "b"]


@pytest.mark.django_db
def test_attachments_are_stored_once_and_delivered_from_the_store(queued, django_capture_on_commit_callbacks):
    from core.models import OutboxAttachment

    context = {"site": SiteOptions.current(), "manage_url": "https://lib.example/my/abc", "site_url": "https://lib.example"}
    files = [{"filename": "class.ics", "mimetype": "text/calendar", "content_b64": base64.b64encode(ICS).decode()}]
    with django_capture_on_commit_callbacks(execute=True):
        outbox.outbox_enqueue(to=PATRON, template="manage_link", context=context, dedupe_key="one", attachments=files)
        outbox.outbox_enqueue_many([{"to": f"p{i}@example.org", "template": "manage_link", "context": context,
                                     "dedupe_key": f"many:{i}", "attachments": files} for i in range(5)])
    assert len(queued) == 6
    [stored] = OutboxAttachment.objects.all()
    assert bytes(stored.content) == ICS and stored.size == len(ICS)
    for message in OutboxMessage.objects.all():
        assert message.attachments == [{"filename": "class.ics", "mimetype": "text/calendar", "sha256": stored.sha256}]
    assert set(outbox.outbox_deliver_batch(message_ids=queued).values()) == {outbox.SENT}
    assert len(mail.outbox) == 6
    for sent in mail.outbox:
        filename, content, mimetype = sent.attachments[0]
        assert (filename, mimetype) == ("class.ics", "text/calendar")
        assert (content.encode() if isinstance(content, str) else content) == ICS


@pytest.mark.django_db
def test_a_message_queued_with_inline_base64_before_the_store_is_still_delivered():
    message = make_message()  # content_b64 in the row, as queued by the previous release
    assert outbox.outbox_deliver_one(message_id=message.pk) == outbox.SENT
    filename, content, _ = mail.outbox[0].attachments[0]
    assert filename == "class.ics" and (content.encode() if isinstance(content, str) else content) == ICS


def test_the_migration_stores_inline_files_once_and_keeps_pending_messages_deliverable(transactional_db):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("core", "0005_coordinator_lockouts")], [("core", "0006_outboxattachment")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    content = base64.b64encode(ICS).decode()
    for i in range(3):
        old.get_model("core", "OutboxMessage").objects.create(
            dedupe_key=f"old:{i}", template="t", to=PATRON, subject="s", body_text="b",
            attachments=[{"filename": "class.ics", "mimetype": "text/calendar", "content_b64": content}])
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    from core.models import OutboxAttachment

    [stored] = OutboxAttachment.objects.all()
    assert bytes(stored.content) == ICS
    ids = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))
    assert all(m.attachments[0]["sha256"] == stored.sha256 and "content_b64" not in m.attachments[0]
               for m in OutboxMessage.objects.all())
    assert set(outbox.outbox_deliver_batch(message_ids=ids).values()) == {outbox.SENT}
    assert [a.attachments[0][1] for a in mail.outbox] == [ICS.decode()] * 3 or \
        [a.attachments[0][1] for a in mail.outbox] == [ICS] * 3
