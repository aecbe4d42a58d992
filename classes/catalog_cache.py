"""The public catalog's shared cache: a version that every change a catalog page shows bumps, and
the time bucket that bounds how stale a seat count on a cached page may be.

What is cached (``classes.views``) is person-free HTML only — a course's card for a given seat
count, a catalog page's content for visitors with an empty cart, a course page's description,
schedule and location — never the header (cart count), a CSRF token or messages, which every
request renders for itself. Keys carry:

- ``version()``: a token replaced whenever a Course, Meeting, Semester, Venue, Category or
  Instructor (or the site options: the page without a semester shows the phone) is saved or
  deleted (admin edits, course changes, the week-out run's status changes,
  completion…), at once and again when the transaction commits — so a page cached by a request
  that read the version before the commit is never served after it. A new token (not a counter)
  means an evicted version key can never bring back old entries.
- ``seat_bucket(now)``: the number of the ``SEAT_STALENESS``-second window ``now`` falls in. A
  cached catalog page shows seat counts at most that old (checkout re-checks under the lock); a
  card, keyed by its own seat count, is always exact.
"""

import datetime as dt
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

#: Raise it with any change to the shape of what is cached (or to the catalog's templates), so a
#: deploy never serves what the code before it stored.
FORMAT = 1
VERSION_KEY = f"catalog:version:{FORMAT}"
#: How old (seconds) a seat count on a cached catalog page may be.
SEAT_STALENESS = 5
#: How long a card or a course page's fixed part is kept (a change replaces the version anyway).
FRAGMENT_TIMEOUT = 24 * 3600


def _token() -> str:
    return uuid.uuid4().hex[:16]


def version() -> str:
    """The catalog's current version (made when missing: evicted, or a fresh cache)."""
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, _token(), None)
        current = cache.get(VERSION_KEY)
    return current


def bump() -> None:
    """Make every cached catalog fragment unreachable: now, and again once the transaction commits."""
    cache.set(VERSION_KEY, _token(), None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, _token(), None))


def seat_bucket(now: dt.datetime) -> int:
    return int(now.timestamp()) // SEAT_STALENESS


def _changed(sender, **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata
        return
    bump()


def connect() -> None:
    """Bump the version on every save and delete of what the catalog shows (``ClassesConfig.ready``)."""
    from core.models import SiteOptions

    from .models import Category, Course, Instructor, Meeting, Semester, Venue

    for model in (Course, Meeting, Semester, Venue, Category, Instructor, SiteOptions):
        post_save.connect(_changed, sender=model, dispatch_uid=f"catalog-cache-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"catalog-cache-delete-{model.__name__}")


def memo(key: str, compute, *, version: str, now: dt.datetime):
    """``compute()``, kept for the day under ``key`` and the catalog's version: for what only a
    change to the catalog's rows or the date can change (the semesters on show, the categories
    and venues of the filters, the order of a page's classes), never seat counts."""
    from . import schedule

    full = f"catalog:memo:{version}:{schedule.local(now).date().isoformat()}:{key}"
    value = cache.get(full)
    if value is None:
        value = compute()
        cache.set(full, value, FRAGMENT_TIMEOUT)
    return value
