"""Celery entry points of enrollment (periodic jobs in settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from . import services
from .services import completion, weekout
from .services.nudges import nudges_send

log = logging.getLogger(__name__)


@shared_task(name="enrollment.holds_expire", ignore_result=True)
def holds_expire() -> int:
    """Release holds and waitlist offers that ran out and offer the seats to the waitlist.
    Idempotent: each row is re-read under its course's lock, so two runs at once do no harm.
    A Pass the Buck award of a hold that ran out goes back to the fund right after
    (``finance``'s periodic returns sweep catches any this misses)."""
    released = services.holds_expire()
    if released:
        from finance.services.fund import fund_returns_sweep

        try:
            fund_returns_sweep()
        except Exception:
            log.exception("fund returns after expiring holds failed; left to the sweep")
    return released


def refunds_settle_for(registration_ids, *, reason: str, actor=None, now=None) -> list:
    """Entry-point glue after ``course_decide``: settle each cancelled registration's refund with
    finance (card refunds go to Stripe after commit; cash and check wait as "to issue").
    Returns the refunds made. A failure is logged and left to finance's ``refunds_sweep``."""
    from finance.services import refunds_settle

    made = []
    for registration_id in registration_ids:
        try:
            made += refunds_settle(registration_id=registration_id, reason=reason, actor=actor, now=now)
        except Exception:  # the sweep settles it later; the other registrations go on
            log.exception("refund of registration %s not settled now; left to the sweep", registration_id)
    return made


@shared_task(name="enrollment.week_out", ignore_result=True)
def week_out() -> int:
    """Periodic: decide every open course whose week-out cutoff has passed, then settle the
    refunds of those cancelled. Idempotent: a course is decided once (one ``CourseDecision`` per
    course, under its row lock) and a refund is settled once. Returns the courses decided now."""
    lines = weekout.week_out_run()
    for line in lines:
        if line.settle_ids:
            refunds_settle_for(line.settle_ids, reason=line.refund_reason)
    return sum(line.decided for line in lines)


@shared_task(name="enrollment.nudges", ignore_result=True)
def nudges() -> int:
    """Periodic: the low-enrollment nudge (``enrollment.services.nudges.nudges_send``); once per registration."""
    return len(nudges_send())


@shared_task(name="enrollment.courses_complete", ignore_result=True)
def courses_complete() -> int:
    """Periodic: mark every running course whose last meeting has ended as completed
    (``enrollment.services.completion``). Idempotent. Returns the courses completed now."""
    return sum(line.completed for line in completion.courses_complete())
