"""``manage.py week_out [--dry-run] [--at "YYYY-MM-DD HH:MM"]``: the week-out run, for staff and cron.

Decides every open course whose week-out cutoff has passed (``enrollment.services.weekout``):
it runs, or it is cancelled and its registrants are refunded (``finance.services.refunds_settle``,
right after each decision). One line per course. ``--dry-run`` prints what would happen and
changes nothing; ``--at`` runs as if it were that local time (to check a date ahead, or to catch
up). The same job runs by itself every 10 minutes (Celery beat, ``enrollment.week_out``).
Then every running course whose last meeting has ended is marked completed
(``enrollment.services.completion``, also the periodic ``enrollment.courses_complete``).
"""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from enrollment.services import completion, weekout
from enrollment.tasks import refunds_settle_for

AT_FORMAT = "%Y-%m-%d %H:%M"


def parse_at(value: str) -> dt.datetime:
    """A local time "YYYY-MM-DD HH:MM" (the program's time zone) as an aware datetime."""
    try:
        naive = dt.datetime.strptime(value.strip(), AT_FORMAT)
    except ValueError:
        raise CommandError(
            f'--at must be a local date and time as "YYYY-MM-DD HH:MM" (for example "2027-03-03 00:05"), '
            f"not {value!r}."
        ) from None
    return timezone.make_aware(naive)


def _would_refund(registration_ids) -> tuple[Decimal, int]:
    """What finance would refund for these registrations if their course were cancelled now: the
    price, at most what was paid for each, less what was refunded already."""
    from enrollment.models import Registration
    from finance import selectors

    total, count = Decimal("0.00"), 0
    for registration in Registration.objects.filter(pk__in=registration_ids).select_related("course"):
        owed = min(registration.price - selectors.registration_refunded(registration, cause="cancel"),
                   selectors.registration_paid(registration) - selectors.registration_refunded(registration))
        if owed > 0:
            total, count = total + owed, count + 1
    return total, count


class Command(BaseCommand):
    help = "Decide every open course whose week-out cutoff has passed: it runs, or it is cancelled and refunded."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would happen; change nothing.")
        parser.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help="Run as of this local time (default: now).")

    def handle(self, *args, dry_run=False, at=None, **options):
        now = parse_at(at) if at is not None else timezone.now()
        lines = weekout.week_out_run(now=now, dry_run=dry_run)
        for line in lines:
            if line.settle_ids:
                if dry_run:
                    line.refund_total, line.refund_count = _would_refund(line.settle_ids)
                else:
                    made = refunds_settle_for(line.settle_ids, reason=line.refund_reason, now=now)
                    line.refund_total = sum((r.amount for r in made), Decimal("0.00"))
                    line.refund_count = len({r.registration_id for r in made})
            self.stdout.write(line.text())
        if not lines:
            self.stdout.write(f"No open course has passed its cutoff as of {timezone.localtime(now):{AT_FORMAT}}.")
        # Then the courses held to the end: running → completed (the periodic job's same service).
        for done in completion.courses_complete(now=now, dry_run=dry_run):
            self.stdout.write(done.text())
        failed = [line for line in lines if line.error]
        if failed:
            raise CommandError(f"{len(failed)} course(s) could not be decided; the next run tries again.")
