"""Celery entry points of core: outbox delivery and its sweep (see core.outbox)."""

from celery import shared_task

from . import outbox


@shared_task(name="core.outbox_deliver", ignore_result=True)
def outbox_deliver(message_id: int) -> None:
    """Deliver one outbox message (claimed under a row lock, so it is sent at most once)."""
    outbox.outbox_deliver_one(message_id=message_id)


@shared_task(name="core.outbox_sweep", ignore_result=True)
def outbox_sweep() -> None:
    """Re-queue messages left pending (a lost task, a broker restart, a retry that is due)."""
    for message_id in outbox.outbox_due_ids():
        outbox_deliver.delay(message_id)
