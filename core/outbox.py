"""The outbox: queue a message in the caller's transaction; deliver it after commit.

``outbox_enqueue`` renders ``templates/emails/<template>.{subject.txt,txt,html}`` now (so the
message says what was true when it was caused) and stores it. Delivery (``outbox_deliver``) is a
Celery task queued with ``transaction.on_commit``; a periodic sweep re-queues anything left
pending, so a lost task loses no mail, and the unique dedupe key means nobody gets a message twice.
"""

from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from .models import OutboxMessage


def _render(template: str, context: dict) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    try:
        html = render_to_string(f"emails/{template}.html", context)
    except TemplateDoesNotExist:
        html = ""
    return subject, text, html


def outbox_enqueue(
    *, to: str, template: str, context: dict, dedupe_key: str, attachments: list[dict] | None = None
) -> OutboxMessage | None:
    """Queue one message. Call inside the transaction of the change that causes it.

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
    from .tasks import outbox_deliver

    transaction.on_commit(lambda: outbox_deliver.delay(message.pk))
    return message
