"""Celery entry points of finance: thin wrappers around ``finance.services``."""

from celery import shared_task

from . import services


@shared_task(name="finance.refunds_sweep", ignore_result=True)
def refunds_sweep() -> None:
    """Periodic: retry card refunds whose Stripe call failed, and settle cancelled, paid
    registrations that were never settled (``finance.services.refunds_sweep``)."""
    services.refunds_sweep()


@shared_task(name="finance.transfers_sweep", ignore_result=True)
def transfers_sweep() -> None:
    """Periodic: settle the money of transfers whose settlement did not run
    (``finance.services.staff.transfers_sweep``)."""
    from .services.staff import transfers_sweep as sweep

    sweep()


@shared_task(name="finance.fund_returns_sweep", ignore_result=True)
def fund_returns_sweep() -> None:
    """Periodic: return to Pass the Buck the awards of registrations (or courses) that were
    cancelled or ran out unpaid (``finance.services.fund.fund_returns_sweep``), then offer what
    the fund holds to the scholarship waitlist."""
    from .services.fund import fund_returns_sweep as sweep
    from .services.scholarship_offers import scholarship_waits_offer as offer

    sweep()
    offer()


@shared_task(name="finance.scholarship_waits_offer", ignore_result=True)
def scholarship_waits_offer() -> None:
    """After a donation: offer the scholarship waitlist what the fund now covers
    (``finance.services.scholarship_offers.scholarship_waits_offer``; the periodic returns sweep runs
    it too, so a lost task loses nothing)."""
    from .services.scholarship_offers import scholarship_waits_offer as offer

    offer()
