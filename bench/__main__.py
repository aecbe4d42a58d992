"""``make bench`` (``python -m bench``; ``QUICK=1`` for the quick mode): start the stack as production
would, run every row of issue 12's table, print the table, stop the stack. Exits 1 on a correctness
violation (oversold, lost, a duplicate message, a 5xx), 2 when the bench itself failed."""

import os
import signal
import sys
import time
import traceback

from .report import Row, table
from .stack import Stack

QUICK = os.environ.get("QUICK", "").strip() not in ("", "0")
#: (quick, full) sizes
SIZES = {
    "page_seconds": (8, 40),  # per page, half of it on /healthz, in alternating slices
    "render_repeat": (20, 100),
    "reminders": (1200, 1200),
    "registrations": (120, 600),  # registrations per flow row
    "morning_seats": (240, 1200),
    "morning_buyers": (60, 300),
    "lock_seconds": (10, 10),
}


def size(name: str):
    return SIZES[name][0 if QUICK else 1]


def step(rows: list[Row], key: str, what: str, run) -> None:
    """Run one row; an exception in the bench is printed and the row left as not measured."""
    only = os.environ.get("BENCH_ONLY", "").split(",")
    if only != [""] and key not in only:
        return
    started = time.perf_counter()
    print(f"bench: {key} {what} …", flush=True)
    try:
        result = run()
    except Exception:  # noqa: BLE001 (one row failing must not lose the others)
        traceback.print_exc()
        rows.append(Row(key, what, figure="not measured (the bench failed: see above)", passed=False))
        return
    for row in result if isinstance(result, list) else [result]:
        rows.append(row)
        print(f"bench:   {row.key}: {row.figure} [{row.verdict}] ({time.perf_counter() - started:.0f} s)", flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the stack as Ctrl-C does


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack()
    rows: list[Row] = []
    print(f"bench: {'quick' if QUICK else 'full'} mode; starting the stack in {stack.tmp}", flush=True)
    try:
        stack.start()
        stack.django_setup()
        from . import flows_rows, rows_mail, rows_pages, seed

        seed.seed_demo()
        course = seed.registrable_template()
        url = stack.base_url
        seconds = size("page_seconds")
        step(rows, "a", "catalog home", lambda: rows_pages.catalog_home(url, seconds))
        step(rows, "b", "course page", lambda: rows_pages.course_page(url, course.get_absolute_url(), seconds))
        step(rows, "c", "catalog render", lambda: rows_pages.render_rows(size("render_repeat")))
        step(rows, "h", "reminders", lambda: rows_mail.reminders(stack.smtp, size("reminders")))
        flows_rows.run_all(stack, rows, step, size)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 2
    finally:
        stack.stop()
        if rows:
            print("\n" + table(rows), flush=True)
    if any(r.violations for r in rows):
        print("bench: correctness violation (see the table)", file=sys.stderr)
        return 1
    if any(r.figure.startswith("not measured") for r in rows):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
