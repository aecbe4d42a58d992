"""Pure date/time rules of the program: the week-out cutoff, local dates, copying a schedule."""

import datetime as dt

from django.utils import timezone


def local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in the program's time zone (settings.TIME_ZONE)."""
    return timezone.localtime(value)


def local_midnight(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in the program's time zone, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def cutoff_at(first_start: dt.datetime | None, cutoff_days: int) -> dt.datetime | None:
    """Registration closes at local midnight ``cutoff_days`` days before the first meeting's day.

    A class meeting Tue, Mar 10 with a 7-day cutoff closes at 00:00 on Tue, Mar 3: the last day
    a patron can register is Mon, Mar 2.
    """
    if first_start is None:
        return None
    return local_midnight(local(first_start).date() - dt.timedelta(days=cutoff_days))


def shift_to_weekday_in(start: dt.datetime, source_start: dt.date, target_start: dt.date) -> dt.datetime:
    """Move ``start`` into another semester: the same weekday and local time, and the same week of
    the semester (counted from the semester's first day)."""
    start_local = local(start)
    offset_days = (start_local.date() - source_start).days
    target_day = target_start + dt.timedelta(days=offset_days)
    # Keep the weekday: move forward to the same weekday as the original meeting.
    target_day += dt.timedelta(days=(start_local.weekday() - target_day.weekday()) % 7)
    return timezone.make_aware(dt.datetime.combine(target_day, start_local.time().replace(tzinfo=None)))


def hours_between(start: dt.datetime, end: dt.datetime):
    """Elapsed class hours as a Decimal with two places (1 h 30 min → 1.50)."""
    from decimal import Decimal

    seconds = int((end - start).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))
