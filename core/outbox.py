"""The outbox: queue a message in the caller's transaction; deliver it after commit.

``outbox_enqueue`` (one message) and ``outbox_enqueue_many`` (a run's worth, one INSERT) render
``templates/emails/<template>.{subject.txt,txt,html}`` now (so the message says what was true when
it was caused) and store it; its files go to ``OutboxAttachment`` once (by content hash) and the
message refers to them. After the caller's transaction commits, the ids it queued go to one Celery
task (``core.tasks``, by task name so this module never imports the tasks): ``core.outbox_deliver``
for one message, ``core.outbox_deliver_batch`` for several, which sends them over one SMTP
connection. A periodic sweep re-queues anything left pending, so a lost task loses no mail, and
the unique dedupe key means nobody gets a message twice.

Settings (all optional):

- ``OUTBOX_MAX_ATTEMPTS`` (12): temporary failures after which a message is marked failed;
- ``OUTBOX_BACKOFF_BASE_SECONDS`` (60) and ``OUTBOX_BACKOFF_MAX_SECONDS`` (3600): the wait after
  the n-th failed attempt is ``base * 2**(n-1)``, capped (1, 2, 4, 8 … minutes, at most 1 h);
- ``OUTBOX_SWEEP_GRACE_SECONDS`` (60): the sweep leaves a never-tried message alone this long,
  since the task queued on commit is most likely still on its way;
- ``OUTBOX_BATCH_SIZE`` (100): the most messages one delivery task sends over one connection.
"""

import base64
import datetime as dt
import hashlib
import logging
import re
import threading

from celery import current_app
from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboxAttachment, OutboxMessage, SiteOptions
from .outbox_mail import attachment_bytes, attachment_files, build_email, classify

logger = logging.getLogger(__name__)

# Switched off only by the race test's control run, to prove that the test can fail.
LOCKING = True

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"

# The names the tests and callers knew before the MIME code moved to ``core.outbox_mail``.
_build_email, _classify, outbox_attachment_bytes = build_email, classify, attachment_bytes


def _tidy_text(text: str) -> str:
    """Plain text as a person would type it: no trailing spaces, at most one blank line in a row
    (template tags leave both behind)."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _render(template: str, context: dict) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    text = _tidy_text(render_to_string(f"emails/{template}.txt", context))
    try:
        html = render_to_string(f"emails/{template}.html", context)
    except TemplateDoesNotExist:
        html = ""
    return subject, text, html


def _store_attachments(lists: list[list[dict]]) -> list[list[dict]]:
    """Store the files of ``lists`` (each message's attachments: ``filename``, ``mimetype``,
    ``cid``, ``content_b64``) once each in ``OutboxAttachment`` and return the lists with each
    file referred to by its ``sha256`` instead of carried inline. One INSERT … ON CONFLICT DO
    NOTHING for all of them: the same bytes find the row already there. (On PostgreSQL a second
    transaction storing the same *new* file waits on the unique index until the first commits;
    files are stored in hash order, so two transactions never wait on each other's.)"""
    contents: dict[str, bytes] = {}
    refs: list[list[dict]] = []
    for items in lists:
        out = []
        for item in items or []:
            if "content_b64" not in item:
                out.append(dict(item))
                continue
            content = base64.b64decode(item["content_b64"], validate=True)
            digest = hashlib.sha256(content).hexdigest()
            contents[digest] = content
            ref = {k: v for k, v in item.items() if k != "content_b64"}
            out.append(ref | {"sha256": digest})
        refs.append(out)
    if contents:
        OutboxAttachment.objects.bulk_create(
            [OutboxAttachment(sha256=d, content=contents[d], size=len(contents[d])) for d in sorted(contents)],
            ignore_conflicts=True,
        )
    return refs


def outbox_enqueue(
    *, to: str, template: str, context: dict, dedupe_key: str, attachments: list[dict] | None = None
) -> OutboxMessage | None:
    """Queue one message. Call inside the transaction of the change that causes it.

    ``attachments``: dicts of ``filename``, ``mimetype`` and ``content_b64`` (the bytes, base64);
    the bytes are stored once (``OutboxAttachment``) and the message refers to them. An image
    with a ``cid`` (``"venue-map"``) is sent *inline*, related to the HTML part, which shows it
    with ``<img src="cid:venue-map">``; without an HTML part it is a plain attachment.

    Returns the new message, or None when a message with ``dedupe_key`` already exists or there
    is no address (patrons without e-mail go on the staff call list instead).
    """
    if not to:
        return None
    if OutboxMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    subject, text, html = _render(template, context)
    try:
        with transaction.atomic():
            [refs] = _store_attachments([attachments or []])
            message = OutboxMessage.objects.create(
                dedupe_key=dedupe_key, template=template, to=to, subject=subject[:300],
                body_text=text, body_html=html, attachments=refs,
            )
    except IntegrityError:  # a concurrent transaction queued the same key first
        return None
    _deliver_after_commit([message.pk])
    return message


def outbox_enqueue_many(items: list[dict]) -> list[int]:
    """Queue many messages at once (a run's reminders): each item has the keyword arguments of
    ``outbox_enqueue``. Call inside the transaction of the change that causes them.

    Once per dedupe key, as ``outbox_enqueue``: keys already queued are skipped before anything
    is rendered, and the rest are inserted with one INSERT … ON CONFLICT (dedupe_key) DO NOTHING,
    so a concurrent transaction that queued the same key first keeps its row and ours is dropped
    (the unique index decides, under any concurrency). Items without an address are skipped.
    Returns the ids of the pending messages with these keys, whose delivery is queued after commit.
    """
    items = [item for item in items if item.get("to")]
    keys = [item["dedupe_key"] for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("outbox_enqueue_many: the same dedupe key twice")
    if not items:
        return []
    existing = set(OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    items = [item for item in items if item["dedupe_key"] not in existing]
    if not items:
        return []
    refs = _store_attachments([item.get("attachments") or [] for item in items])
    rows = []
    for item, files in zip(items, refs, strict=True):
        subject, text, html = _render(item["template"], item["context"])
        rows.append(OutboxMessage(dedupe_key=item["dedupe_key"], template=item["template"], to=item["to"],
                                  subject=subject[:300], body_text=text, body_html=html, attachments=files))
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
    new_keys = [row.dedupe_key for row in rows]
    ids = list(OutboxMessage.objects.filter(dedupe_key__in=new_keys, status=OutboxMessage.Status.PENDING)
               .order_by("pk").values_list("pk", flat=True))
    _deliver_after_commit(ids)
    return ids


#: The Celery tasks that deliver one message and a batch (``core.tasks.outbox_deliver`` and
#: ``outbox_deliver_batch``). ``core.tasks`` imports this module, so they are found by name in
#: Celery's registry (``CoreConfig.ready`` imports the tasks).
DELIVER_TASK = "core.outbox_deliver"
DELIVER_BATCH_TASK = "core.outbox_deliver_batch"


def _batch_size() -> int:
    return max(1, _setting("OUTBOX_BATCH_SIZE", 100))


def outbox_deliver_later(message_ids) -> None:
    """Queue delivery of ``message_ids``: one task for one message, else one task per batch of
    ``OUTBOX_BATCH_SIZE`` (each sends its batch over one SMTP connection)."""
    ids = list(message_ids)
    if len(ids) == 1:
        current_app.tasks[DELIVER_TASK].delay(ids[0])
        return
    size = _batch_size()
    for start in range(0, len(ids), size):
        current_app.tasks[DELIVER_BATCH_TASK].delay(ids[start:start + size])


class _AfterCommit:
    """The ids of the messages one transaction queued, delivered by ``outbox_deliver_later``
    once it commits (one ``on_commit`` callback per transaction, not one per message)."""

    def __init__(self):
        self.ids: list[int] = []
        self.__qualname__ = "core.outbox.outbox_deliver_later"  # named by Django's log of a robust callback's error

    def __call__(self):
        if getattr(_local, "after_commit", None) is self:
            _local.after_commit = None
        outbox_deliver_later(self.ids)


_local = threading.local()


def _deliver_after_commit(ids: list[int]) -> None:
    """Queue delivery of ``ids`` after the current transaction commits. The transaction's
    callback collects every id it queued; when a savepoint rollback discarded it (or it belongs
    to a finished transaction), a new one is registered. ``robust``: a broker that is down must
    not fail the caller's request after its commit; the sweep delivers the messages anyway."""
    if not ids:
        return
    pending = getattr(_local, "after_commit", None)
    hooks = getattr(connection, "run_on_commit", None)
    if not connection.in_atomic_block or hooks is None:
        transaction.on_commit(lambda: outbox_deliver_later(ids), robust=True)
        return
    if pending is None or not any(func is pending for _, func, _ in hooks):
        pending = _local.after_commit = _AfterCommit()
        transaction.on_commit(pending, robust=True)
    pending.ids.extend(ids)


# --- delivery -------------------------------------------------------------------------------

def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def outbox_backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes, at most 1 h."""
    base = _setting("OUTBOX_BACKOFF_BASE_SECONDS", 60)
    cap = _setting("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    exponent = min(max(attempts, 1) - 1, 30)  # no huge powers of two for a long-failing message
    return dt.timedelta(seconds=min(base * 2**exponent, cap))


def _claim(message_id: int):
    """(status, attempts, next_attempt_at) of the message row, locked for this transaction;
    None when it is gone or another worker holds it right now (PostgreSQL: ``SKIP LOCKED``, so
    we never wait behind a send)."""
    qs = OutboxMessage.objects.filter(pk=message_id)
    if LOCKING and connection.features.has_select_for_update:
        qs = qs.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
    return next(iter(qs.values_list("status", "attempts", "next_attempt_at")), None)


def _close_quietly(backend) -> None:
    try:
        backend.close()
    except Exception:  # noqa: BLE001 - a QUIT that fails changes nothing already recorded
        backend.connection = None


def _deliver(message: OutboxMessage, *, backend, now: dt.datetime, reply_to: str, files: dict) -> str:
    """Send one message over ``backend``'s open connection (opened here if needed) and record
    the outcome, in one transaction that holds the message's row lock during the send."""
    with transaction.atomic():
        state = _claim(message.pk)
        if state is None:
            return SKIPPED
        status, attempts, next_attempt_at = state
        if status != OutboxMessage.Status.PENDING or (next_attempt_at is not None and next_attempt_at > now):
            return SKIPPED
        rows = OutboxMessage.objects.filter(pk=message.pk)
        try:
            email = build_email(message, reply_to=reply_to, connection_=backend, files=files)
            backend.open()  # no-op while the batch's connection is open
            email.send(fail_silently=False)
        except Exception as exc:  # every failure is recorded on the row, none escapes
            # The connection may be in any state now: the next message opens a fresh one.
            _close_quietly(backend)
            permanent, error = classify(exc)
            attempts += 1
            if permanent or attempts >= _setting("OUTBOX_MAX_ATTEMPTS", 12):
                rows.update(attempts=attempts, last_error=error, status=OutboxMessage.Status.FAILED,
                            next_attempt_at=None)
                outcome = FAILED
            else:
                rows.update(attempts=attempts, last_error=error, next_attempt_at=now + outbox_backoff(attempts))
                outcome = RETRY
            logger.warning("outbox message %s: %s after attempt %s (%s)", message.pk, outcome, attempts,
                           type(exc).__name__)
            return outcome
        rows.update(status=OutboxMessage.Status.SENT, sent_at=now, attempts=F("attempts") + 1, next_attempt_at=None)
        return SENT


def outbox_deliver_batch(*, message_ids, now: dt.datetime | None = None) -> dict[int, str]:
    """Send each pending, due message of ``message_ids`` over **one** SMTP connection and record
    each outcome; returns ``{id: "sent" | "retry" | "failed" | "skipped"}`` (skipped: not
    pending, not yet due, gone, or being sent by another worker).

    The messages are read once, without a lock (their content never changes); then each one is
    delivered in its own transaction, exactly as a single message always was:

    - it takes the message's row lock (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
      SQLite the IMMEDIATE transaction serializes writers), re-reads its status and attempts under
      it, **holds it while talking to the SMTP server**, then marks the row sent and commits —
      before the next message is sent. A crash (worker killed, database gone) rolls back only the
      message in flight, which stays pending for the sweep; every message before it is committed
      as sent. The only window for a duplicate is between the server's final "250 OK" and our
      COMMIT, a few milliseconds, as before (SMTP has no two-phase commit); the stable Message-ID
      lets mail clients fold even that rare duplicate.
    - Two workers with the same id can never both send: the second one skips the locked row, and
      once the first commits it sees ``sent``. A duplicate task, the sweep and "Retry now" are
      harmless.
    - A failure is this message's alone: it is recorded (temporary: attempts and backoff;
      permanent: failed, for staff), the connection is closed, and the next message opens a new
      one; the others of the batch are neither lost nor sent twice.
    - Why not lock the whole batch in one transaction: a crash would then roll back every "sent"
      mark of the batch, and the sweep would send all of them again.
    """
    now = now or timezone.now()
    ids = list(dict.fromkeys(message_ids))  # once each, in the order given
    pending = OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.Status.PENDING).in_bulk()
    outcomes = {pk: SKIPPED for pk in ids}
    if not pending:
        return outcomes
    reply_to = SiteOptions.current().email  # read before any lock: nothing more than needed under one
    files = attachment_files(pending.values())
    backend = get_connection(fail_silently=False)
    try:
        for pk in ids:
            if pk in pending:
                outcomes[pk] = _deliver(pending[pk], backend=backend, now=now, reply_to=reply_to, files=files)
    finally:
        _close_quietly(backend)
    return outcomes


def outbox_deliver_one(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Send one pending, due message and record the outcome; returns ``"sent"``, ``"retry"``,
    ``"failed"`` or ``"skipped"``. The same delivery as ``outbox_deliver_batch`` (its locks and
    guarantees), for a batch of one."""
    return outbox_deliver_batch(message_ids=[message_id], now=now)[message_id]


def outbox_due_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of pending messages that are due: a retry whose time has come, or a message never
    tried (``next_attempt_at`` empty) — the latter only after a short grace, since its task,
    queued on commit, is most likely still on its way. Oldest first."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=_setting("OUTBOX_SWEEP_GRACE_SECONDS", 60))
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - grace)
    qs = OutboxMessage.objects.filter(due, status=OutboxMessage.Status.PENDING).order_by("created_at", "pk")
    return list(qs.values_list("pk", flat=True)[:limit])


def outbox_retry(*, message_ids, now: dt.datetime | None = None) -> list[int]:
    """Staff's "Retry now": put failed or pending messages back to pending, due now, and return
    their ids (the caller queues delivery after commit). Sent messages are never touched, so a
    retry can never send a message twice."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(
            pk__in=list(message_ids), status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED]
        )
        ids = list(qs.select_for_update().values_list("pk", flat=True))
        # Attempts restart, so a message failed after too many tries gets a full set again.
        OutboxMessage.objects.filter(pk__in=ids).update(status=OutboxMessage.Status.PENDING, next_attempt_at=now,
                                                        attempts=0)
    return ids
