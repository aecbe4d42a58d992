"""Counting a path's queries the same way on PostgreSQL and SQLite: PostgreSQL runs one extra
statement per locked transaction (``SET LOCAL lock_timeout``, core.locking) that SQLite has no
use for; it is a setting, not a query, so the counts leave it out."""

from django.test.utils import CaptureQueriesContext


def queries(ctx: CaptureQueriesContext) -> int:
    return sum(1 for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith("SET LOCAL LOCK_TIMEOUT"))
