"""Celery entry points of enrollment (periodic jobs in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from . import services


@shared_task(name="enrollment.holds_expire", ignore_result=True)
def holds_expire() -> int:
    """Release holds and waitlist offers that ran out and offer the seats to the waitlist.
    Idempotent: each row is re-read under its course's lock, so two runs at once do no harm."""
    return services.holds_expire()
