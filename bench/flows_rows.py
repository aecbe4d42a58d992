"""Rows (d)-(g), (i) and (j): registrations per second (to "held", at the desk, by card end to end)
with the web workers' CPU per registration, opening morning with its correctness checks, contention
ratios, and the site while one course row is locked."""

import asyncio
import itertools
import time
from collections import Counter

from .flows import Stripe, checkout_to_held, desk_cash, pay_by_card, staff_login
from .load import closed_loop
from .report import Row, ratio
from .seed import STAFF_PASSWORD, STAFF_USER, bench_courses

_numbers = itertools.count(1)


def _measure(stack, clients: int, count: int, action) -> tuple[float, float, int, object]:
    """Run ``action(client, n) -> Outcome`` ``count`` times on ``clients`` clients; returns
    (successes per second, web CPU ms per success, successes, recorder)."""
    done, failed = [], Counter()

    async def run(client, i):
        outcome = await action(client, next(_numbers))
        if outcome.ok:
            done.append(outcome)
        else:
            failed[outcome.why] += 1

    cpu = stack.web_cpu_seconds()
    start = time.perf_counter()
    recorder = asyncio.run(closed_loop(stack.base_url, clients, run, count=count))
    elapsed = time.perf_counter() - start
    cpu = stack.web_cpu_seconds() - cpu
    n = len(done)
    if failed:
        print(f"bench:   not done: {dict(failed)}", flush=True)
    return (n / elapsed if elapsed else 0.0), (cpu * 1000 / n if n else 0.0), n, recorder


def _row(key, what, rate, cpu_ms, n, count, recorder, goal, ok) -> Row:
    row = Row(key, what, f"{rate:.1f}/s, {cpu_ms:.0f} ms web CPU each ({n}/{count} done)", goal, "", ok)
    if recorder.all_5xx():
        row.violations.append(f"{recorder.all_5xx()} 5xx or failed requests")
    if n < count:
        row.passed = False
    return row


def targets(courses) -> list[tuple[str, int]]:
    """(course page path, id) of each course, read before the event loop runs (no ORM in it)."""
    return [(course.get_absolute_url(), course.pk) for course in courses]


def held_rate(stack, courses, clients: int, count: int):
    paths = targets(courses)

    async def one(client, n):
        path, pk = paths[n % len(paths)]
        return await checkout_to_held(client, path, pk, n)
    return _measure(stack, clients, count, one)


def run_all(stack, rows, step, size) -> None:
    count = size("registrations")
    spread = bench_courses("reg", 60, 100000)
    stripe = Stripe(stack.env["STRIPE_API_BASE"], stack.webhook_secret)

    def d():
        rate, cpu_ms, n, rec = held_rate(stack, spread, 8, count)
        return _row("d", "registrations/s to held, 8 clients", rate, cpu_ms, n, count, rec,
                    "≥ 60/s, ≤ 20 ms web CPU", rate >= 60 and cpu_ms <= 20)

    def e():
        course = spread[0]

        async def one(client, n):
            if not getattr(client, "staff", False):
                client.staff = await staff_login(client, STAFF_USER, STAFF_PASSWORD)
            return await desk_cash(client, course.pk, n)
        rate, cpu_ms, n, rec = _measure(stack, 8, count // 2, one)
        return _row("e", "desk cash registrations/s, 8 clients", rate, cpu_ms, n, count // 2, rec, "≥ 35/s",
                    rate >= 35)

    def f():
        paths = targets(spread)

        async def one(client, n):
            path, pk = paths[n % len(paths)]
            held = await checkout_to_held(client, path, pk, n)
            return await pay_by_card(client, stripe, held.location) if held.ok else held
        rate, cpu_ms, n, rec = _measure(stack, 8, count // 2, one)
        return _row("f", "card end to end registrations/s, 8 clients", rate, cpu_ms, n, count // 2, rec,
                    "≥ 30/s", rate >= 30)

    step(rows, "d", "registrations to held", d)
    step(rows, "e", "desk cash", e)
    step(rows, "f", "card end to end", f)
    step(rows, "g", "opening morning", lambda: morning(stack, stripe, size("morning_seats"), size("morning_buyers")))

    def i():
        hot = bench_courses("hot", 1, 100000)
        # The three runs in alternating rounds, so a noisy machine changes all three alike.
        runs = {"8": (spread, 8), "32": (spread, 32), "hot": (hot, 8)}
        done, took, bad = dict.fromkeys(runs, 0), dict.fromkeys(runs, 0.0), 0
        for _ in range(3):
            for name, (courses, clients) in runs.items():
                started = time.perf_counter()
                _rate, _cpu, n, rec = held_rate(stack, courses, clients, count // 3)
                done[name] += n
                took[name] += time.perf_counter() - started
                bad += rec.all_5xx()
        rate = {name: done[name] / took[name] if took[name] else 0.0 for name in runs}
        r1, r2 = ratio(rate["32"], rate["8"]), ratio(rate["hot"], rate["8"])
        row = Row("i", "contention: 32 ÷ 8 clients; one hot class ÷ 60 classes",
                  f"{rate['32']:.1f}/s at 32, {rate['hot']:.1f}/s on one class, vs {rate['8']:.1f}/s",
                  "keep ≥ 0.95", f"{r1:.2f}; {r2:.2f}", r1 >= 0.95 and r2 >= 0.95)
        if bad:
            row.violations.append(f"{bad} 5xx or failed requests")
        return row

    step(rows, "i", "contention", i)
    from .rows_pages import locked_row

    locked = bench_courses("locked", 1, 100000)[0]
    other = spread[1]
    step(rows, "j", "one row locked", lambda: locked_row(stack.base_url, locked.pk, locked.get_absolute_url(),
                                                         size("lock_seconds"), other_path=other.get_absolute_url()))


def morning(stack, stripe: Stripe, seats: int, buyers: int) -> Row:
    """``seats`` seats over classes of 40, ``buyers`` buyers paying by card, one seat an order, each
    trying classes until all are full. Time to the last seat; then 0 oversold (confirmed ≤ capacity),
    0 lost (every paid order confirmed or refunded), 0 5xx."""
    from enrollment.models import Registration
    from finance.models import Payment

    courses = bench_courses("morning", max(1, seats // 40), 40)
    paths = targets(courses)
    full: set[int] = set()
    paid_fail = []
    last = [0.0]
    start = time.perf_counter()

    attempts = 4 * seats // buyers + 20  # a bound, should the site never say "full"

    async def buyer(client, i):
        for _ in range(attempts):
            if len(full) >= len(paths):
                break
            free = [t for t in paths if t[1] not in full]
            path, pk = free[(i + len(full)) % len(free)]
            n = next(_numbers)
            held = await checkout_to_held(client, path, pk, n)
            if not held.ok:
                if held.why.startswith("full"):
                    full.add(pk)
                    continue
                return False
            paid = await pay_by_card(client, stripe, held.location)
            if paid.ok:
                last[0] = time.perf_counter()
            else:
                paid_fail.append(paid.why)
        return False

    recorder = asyncio.run(closed_loop(stack.base_url, buyers, buyer, count=buyers))
    took = last[0] - start
    ids = [c.pk for c in courses]
    confirmed = {c.pk: Registration.objects.filter(course_id=c.pk, status="confirmed").count() for c in courses}
    oversold = sum(max(0, n - c.capacity) for c, n in ((c, confirmed[c.pk]) for c in courses))
    lost = 0
    for payment in Payment.objects.filter(status="succeeded", registrations__course_id__in=ids).distinct():
        if payment.refunds.exists():
            continue
        lost += payment.registrations.exclude(status="confirmed").count()
    total = sum(confirmed.values())
    row = Row("g", f"opening morning: {seats} seats, {buyers} buyers, card",
              f"last seat at {took:.1f} s; {total}/{seats} confirmed; {oversold} oversold, {lost} lost, "
              f"{recorder.all_5xx()} 5xx; {len(paid_fail)} card steps failed", "≤ 20 s, 0 oversold/lost/5xx", "",
              took <= 20 and total == seats)
    if oversold:
        row.violations.append(f"{oversold} seats oversold")
    if lost:
        row.violations.append(f"{lost} paid seats lost")
    if recorder.all_5xx():
        row.violations.append(f"{recorder.all_5xx()} 5xx or failed requests")
    return row
