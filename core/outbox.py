"""The outbox: queue a message in the caller's transaction; deliver it after commit.

``outbox_enqueue`` renders ``templates/emails/<template>.{subject.txt,txt,html}`` now (so the
message says what was true when it was caused) and stores it. Delivery (``core.tasks.outbox_deliver``,
queued by its task name so this module never imports the tasks) is a Celery task queued with
``transaction.on_commit``; a periodic sweep re-queues anything left pending, so a lost task loses no
mail, and the unique dedupe key means nobody gets a message twice.

Settings (all optional):

- ``OUTBOX_MAX_ATTEMPTS`` (12): temporary failures after which a message is marked failed;
- ``OUTBOX_BACKOFF_BASE_SECONDS`` (60) and ``OUTBOX_BACKOFF_MAX_SECONDS`` (3600): the wait after
  the n-th failed attempt is ``base * 2**(n-1)``, capped (1, 2, 4, 8 … minutes, at most 1 h);
- ``OUTBOX_SWEEP_GRACE_SECONDS`` (60): the sweep leaves a never-tried message alone this long,
  since the task queued on commit is most likely still on its way.
"""

import base64
import datetime as dt
import hashlib
import logging
import re
import smtplib
from email.mime.image import MIMEImage

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import SafeMIMEMultipart
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboxMessage, SiteOptions

logger = logging.getLogger(__name__)

# Switched off only by the race test's control run, to prove that the test can fail.
LOCKING = True

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"


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


def outbox_enqueue(
    *, to: str, template: str, context: dict, dedupe_key: str, attachments: list[dict] | None = None
) -> OutboxMessage | None:
    """Queue one message. Call inside the transaction of the change that causes it.

    ``attachments``: dicts of ``filename``, ``mimetype`` and ``content_b64`` (the bytes, base64).
    An image with a ``cid`` (``"venue-map"``) is sent *inline*, related to the HTML part, which
    shows it with ``<img src="cid:venue-map">``; without an HTML part it is a plain attachment.

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
            message = OutboxMessage.objects.create(
                dedupe_key=dedupe_key, template=template, to=to, subject=subject[:300],
                body_text=text, body_html=html, attachments=attachments or [],
            )
    except IntegrityError:  # a concurrent transaction queued the same key first
        return None
    # robust: a broker that is down must not fail the caller's request after its commit; the
    # sweep delivers the message anyway.
    transaction.on_commit(lambda: outbox_deliver_later(message.pk), robust=True)
    return message


#: The Celery task that delivers one message (``core.tasks.outbox_deliver``). ``core.tasks`` imports
#: this module, so it is found by name in Celery's registry (``CoreConfig.ready`` imports the tasks).
DELIVER_TASK = "core.outbox_deliver"


def outbox_deliver_later(message_id: int) -> None:
    """Queue the delivery task of one message (``outbox_enqueue`` calls it after commit)."""
    current_app.tasks[DELIVER_TASK].delay(message_id)


# --- delivery -------------------------------------------------------------------------------

def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def outbox_backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes, at most 1 h."""
    base = _setting("OUTBOX_BACKOFF_BASE_SECONDS", 60)
    cap = _setting("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    exponent = min(max(attempts, 1) - 1, 30)  # no huge powers of two for a long-failing message
    return dt.timedelta(seconds=min(base * 2**exponent, cap))


_ADDRESS = re.compile(r"<?[^\s<>@,;:\"'()\[\]]+@[^\s<>@,;:\"'()\[\]]+>?")


def _scrub(text: str) -> str:
    """Remove e-mail addresses from an error text (staff see it; logs keep no addresses)."""
    return _ADDRESS.sub("<address>", text)[:1000]


def _smtp_text(code, message) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{code} {message}".strip()


def _classify(exc: Exception) -> tuple[bool, str]:
    """(permanent?, error text without addresses) for an exception raised while sending.

    Permanent: the receiving server refused *this message* for good (a 5xx reply to the
    recipient, the sender or the data) or the address itself is unusable. Temporary: a 4xx
    reply, a server that is down, slow or hung up, and trouble with *our* side of the
    connection (HELO or authentication refused, a 5xx greeting) — those are not the message's
    fault, and retrying with backoff gives the operator time to fix them.
    """
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(_smtp_text(code, msg) for code, msg in exc.recipients.values()) or str(exc)
        permanent = bool(codes) and all(isinstance(c, int) and 500 <= c < 600 for c in codes)
        return permanent, _scrub(f"{name}: {text}")
    if isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError | smtplib.SMTPAuthenticationError):
        return False, _scrub(f"{name}: {_smtp_text(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data refused, other replies
        code = exc.smtp_code
        return (isinstance(code, int) and 500 <= code < 600), _scrub(f"{name}: {_smtp_text(code, exc.smtp_error)}")
    if isinstance(exc, OSError):  # SMTPServerDisconnected, refused connection, timeout, DNS…
        return False, _scrub(f"{name}: {exc}" if str(exc) else name)
    if isinstance(exc, ValueError):  # Django's sanitize_address: an address that cannot be sent to
        return True, _scrub(f"{name}: {exc}")
    return False, _scrub(f"{name}: {exc}")  # unknown: retry with backoff, then fail for staff


class _OutboxEmail(EmailMultiAlternatives):
    """``EmailMultiAlternatives`` with images inline in the HTML part (RFC 2387)::

        multipart/mixed                      (only with ordinary attachments)
          multipart/alternative
            text/plain
            multipart/related; type="text/html"
              text/html                      <img src="cid:venue-map">
              image/png                      Content-ID: <venue-map>, inline
          text/calendar …                    ordinary attachments

    The plain-text part stays self-sufficient (it carries no image); mail clients that show the
    HTML find the image in the same ``related`` part, and none of them fetches anything.
    """

    def __init__(self, *args, inline_images: list[MIMEImage] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_images = inline_images or []

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.inline_images or not msg.is_multipart():
            return msg
        parts = msg.get_payload()
        for i, part in enumerate(parts):
            if part.get_content_type() == "text/html":
                related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET,
                                            type="text/html")
                related.attach(part)
                for image in self.inline_images:
                    related.attach(image)
                parts[i] = related
                break
        return msg


def _inline_image(item: dict, content: bytes) -> MIMEImage:
    """An image part for ``<img src="cid:…">``: ``Content-ID`` and ``Content-Disposition: inline``."""
    mimetype = item.get("mimetype") or "image/png"
    image = MIMEImage(content, _subtype=mimetype.split("/", 1)[1] if "/" in mimetype else "png")
    cid = str(item["cid"]).strip("<>")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename=item.get("filename") or f"{cid}.png")
    return image


def _build_email(message: OutboxMessage, *, reply_to: str = "", connection_=None) -> EmailMultiAlternatives:
    """The e-mail of ``message``: text body, HTML alternative, attachments decoded from base64;
    an image attachment with a ``cid`` goes inline, related to the HTML (``_OutboxEmail``)."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    key_hash = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:20]
    email = _OutboxEmail(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[reply_to] if reply_to else None,
        connection=connection_,
        headers={
            # The same Message-ID on every attempt: should a crash ever make us send twice, mail
            # clients that de-duplicate by Message-ID show one message.
            "Message-ID": f"<outbox.{message.pk}.{key_hash}@{domain}>",
            "Auto-Submitted": "auto-generated",  # RFC 3834: no vacation auto-replies, please
        },
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for item in message.attachments or []:
        mimetype = item.get("mimetype") or "application/octet-stream"
        content = base64.b64decode(item["content_b64"], validate=True)
        if item.get("cid") and message.body_html and mimetype.startswith("image/"):
            email.inline_images.append(_inline_image(item, content))
        else:
            email.attach(item["filename"], content, mimetype)
    return email


def _claim(message_id: int) -> OutboxMessage | None:
    """The message row, locked for this transaction; None when it is gone or another worker
    holds it right now (PostgreSQL: ``SKIP LOCKED``, so we never wait behind a send)."""
    qs = OutboxMessage.objects.filter(pk=message_id)
    if LOCKING and connection.features.has_select_for_update:
        qs = qs.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
    return qs.first()


def outbox_deliver_one(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Send one pending, due message and record the outcome; returns ``"sent"``, ``"retry"``,
    ``"failed"`` or ``"skipped"`` (not pending, not yet due, gone, or being sent by another
    worker).

    Locks: takes the message's row lock (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
    SQLite the IMMEDIATE transaction serializes writers) and **holds it while talking to the
    SMTP server**, then marks the row sent and commits.

    Why hold the lock rather than mark the row "sending" first:

    - Two workers with the same id can never both send: the second one skips the locked row, and
      once the first commits it sees ``sent``. Re-reading the status under the lock is what makes
      a duplicate task, the sweep and "Retry now" harmless.
    - A crash (worker killed, database gone) before the commit rolls the row back to
      ``pending``, and the sweep sends it again: the message is never lost. The only window for
      a duplicate is between the SMTP server's final "250 OK" and our COMMIT, a few
      milliseconds; no protocol can close it (SMTP has no two-phase commit). A "sending" mark
      committed before the send would instead strand a message whose worker died mid-send —
      nobody could tell whether it went out, so it would either be lost or resent anyway.
      The stable Message-ID header lets mail clients fold even that rare duplicate.
    - The transaction is short (one SMTP exchange, bounded by ``EMAIL_TIMEOUT``) and touches
      one outbox row, which nothing else writes except staff's "Retry now".
    """
    now = now or timezone.now()
    reply_to = SiteOptions.current().email  # read before the lock: nothing more than needed under it
    with transaction.atomic():
        message = _claim(message_id)
        if message is None or message.status != OutboxMessage.Status.PENDING:
            return SKIPPED
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            return SKIPPED
        try:
            email = _build_email(message, reply_to=reply_to, connection_=get_connection(fail_silently=False))
            email.send(fail_silently=False)
        except Exception as exc:  # every failure is recorded on the row, none escapes
            permanent, error = _classify(exc)
            message.attempts += 1
            message.last_error = error
            if permanent or message.attempts >= _setting("OUTBOX_MAX_ATTEMPTS", 12):
                message.status = OutboxMessage.Status.FAILED
                message.next_attempt_at = None
                outcome = FAILED
            else:
                message.next_attempt_at = now + outbox_backoff(message.attempts)
                outcome = RETRY
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("outbox message %s: %s after attempt %s (%s)", message.pk, outcome, message.attempts,
                           type(exc).__name__)
            return outcome
        message.status = OutboxMessage.Status.SENT
        message.sent_at = now
        message.attempts += 1
        message.next_attempt_at = None
        message.save(update_fields=["status", "sent_at", "attempts", "next_attempt_at"])
        return SENT


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
