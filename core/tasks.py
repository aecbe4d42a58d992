"""Celery entry points of core: outbox delivery and its sweep (see core.outbox).

Correctness lives in the outbox rows, not in Celery: a delivery task that is lost, run twice or
run late changes nothing extra, because ``outbox_deliver_one`` re-reads the row under its lock,
and the sweep (every minute, in the beat schedule) re-queues whatever is still pending and due,
including retries after a temporary SMTP failure.
"""

from celery import shared_task

from . import outbox


@shared_task(name="core.outbox_deliver", ignore_result=True)
def outbox_deliver(message_id: int) -> None:
    """Deliver one outbox message (claimed under a row lock, so it is sent at most once).

    A temporary failure is recorded on the row with its next attempt time; the sweep picks it
    up then, so there is no Celery retry to lose."""
    outbox.outbox_deliver_one(message_id=message_id)


@shared_task(name="core.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Re-queue messages left pending (a lost task, a broker restart, a retry that is due)."""
    ids = outbox.outbox_due_ids()
    for message_id in ids:
        outbox_deliver.delay(message_id)
    return len(ids)
