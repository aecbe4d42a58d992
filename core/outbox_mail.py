"""How an outbox message becomes an e-mail, and what an SMTP failure means (``core.outbox``'s
delivery uses both).

- ``build_email``: the MIME message of an outbox row: text, HTML, attachments (stored once in
  ``OutboxAttachment`` and referenced by content hash, or — rows written before that — inline as
  base64), an image with a ``cid`` inline in the HTML part.
- ``classify``: (permanent?, error text without addresses) of an exception raised while sending.
"""

import base64
import hashlib
import re
import secrets
import smtplib
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart

from .models import OutboxAttachment, OutboxMessage

_ADDRESS = re.compile(r"<?[^\s<>@,;:\"'()\[\]]+@[^\s<>@,;:\"'()\[\]]+>?")


def _scrub(text: str) -> str:
    """Remove e-mail addresses from an error text (staff see it; logs keep no addresses)."""
    return _ADDRESS.sub("<address>", text)[:1000]


def _smtp_text(code, message) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{code} {message}".strip()


def classify(exc: Exception) -> tuple[bool, str]:
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

    def message(self):
        """The MIME message, each multipart with its boundary chosen now: 128 random bits, which
        no part's text can be expected to contain (the email package would otherwise compile and
        run a regular expression over the whole message to choose one — a third of the time it
        takes to serialize a reminder)."""
        msg = super().message()
        for part in msg.walk():
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(f"===============outbox.{secrets.token_hex(16)}==")
        return msg

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


def attachment_bytes(item: dict, files: dict[str, bytes] | None = None) -> bytes:
    """The bytes of one attachment of a message: from ``OutboxAttachment`` by its ``sha256``
    (``files``: those already read, by hash), or inline ``content_b64`` (rows queued before
    attachments were stored once, or by a process of the previous release)."""
    if "sha256" in item:
        digest = item["sha256"]
        if files is not None and digest in files:
            return files[digest]
        content = bytes(OutboxAttachment.objects.values_list("content", flat=True).get(sha256=digest))
        if files is not None:
            files[digest] = content
        return content
    return base64.b64decode(item["content_b64"], validate=True)


def attachment_files(messages) -> dict[str, bytes]:
    """The stored attachments the ``messages`` reference, by hash: one query for a batch."""
    digests = {item["sha256"] for m in messages for item in (m.attachments or []) if "sha256" in item}
    if not digests:
        return {}
    rows = OutboxAttachment.objects.filter(sha256__in=digests).values_list("sha256", "content")
    return {digest: bytes(content) for digest, content in rows}


def build_email(message: OutboxMessage, *, reply_to: str = "", connection_=None,
                files: dict[str, bytes] | None = None) -> EmailMultiAlternatives:
    """The e-mail of ``message``: text body, HTML alternative, attachments (``attachment_bytes``);
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
        content = attachment_bytes(item, files)
        if item.get("cid") and message.body_html and mimetype.startswith("image/"):
            email.inline_images.append(_inline_image(item, content))
        else:
            email.attach(item["filename"], content, mimetype)
    return email
