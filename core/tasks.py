"""Celery entry points of core: outbox delivery and its sweep (see core.outbox).

Correctness lives in the outbox rows, not in Celery: a delivery task that is lost, run twice or
run late changes nothing extra, because each message is re-read under its own row lock when it
is sent, and the sweep (every minute, in the beat schedule) re-queues whatever is still pending
and due, including retries after a temporary SMTP failure.
"""

from celery import shared_task

from . import outbox


@shared_task(name="core.outbox_deliver", ignore_result=True)
def outbox_deliver(message_id: int) -> None:
    """Deliver one outbox message (claimed under a row lock, so it is sent at most once).

    A temporary failure is recorded on the row with its next attempt time; the sweep picks it
    up then, so there is no Celery retry to lose."""
    outbox.outbox_deliver_one(message_id=message_id)


@shared_task(name="core.outbox_deliver_batch", ignore_result=True)
def outbox_deliver_batch(message_ids: list[int]) -> None:
    """Deliver a batch of outbox messages over one SMTP connection, each claimed and marked in
    its own transaction under its row lock (``core.outbox.outbox_deliver_batch``): a worker
    killed mid-batch leaves only the message in flight pending, and a redelivered batch skips
    the messages already sent."""
    outbox.outbox_deliver_batch(message_ids=message_ids)


@shared_task(name="core.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Re-queue messages left pending (a lost task, a broker restart, a retry that is due), in
    batches; returns how many."""
    ids = outbox.outbox_due_ids()
    if ids:
        outbox.outbox_deliver_later(ids)
    return len(ids)
