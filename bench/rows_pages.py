"""Rows (a)-(c) and (j): the catalog home and a course page over HTTP beside /healthz, the catalog
home rendered in-process at 56 and 560 classes, and the site while one course row is locked."""

import asyncio
import statistics
import threading
import time

from .load import Recorder, closed_loop, interleaved
from .report import Row, ratio


def _fmt(stats) -> str:
    return f"{stats.rps:.0f} req/s, p50 {stats.ms(50):.0f} ms, p99 {stats.ms(99):.0f} ms"


def catalog_home(base_url: str, seconds: float) -> list[Row]:
    rows = []
    for clients in (8, 32):
        page, bare = asyncio.run(interleaved(base_url, "/", clients, seconds))
        r = ratio(page.rps, bare.rps)
        goal_ok = r >= 0.5 and (clients != 32 or page.ms(99) < 50)
        row = Row(f"a{clients}", f"catalog home, {clients} clients",
                  f"{_fmt(page)} (healthz {bare.rps:.0f} req/s)",
                  "≥ 0.5 × bare" + (", p99 < 50 ms" if clients == 32 else ""), f"{r:.3f}", goal_ok)
        _check_5xx(row, page, bare)
        rows.append(row)
    return rows


def course_page(base_url: str, path: str, seconds: float) -> Row:
    page, bare = asyncio.run(interleaved(base_url, path, 8, seconds))
    r = ratio(page.rps, bare.rps)
    row = Row("b", "course page, 8 clients", f"{_fmt(page)} (healthz {bare.rps:.0f} req/s)", "≥ 0.5 × bare",
              f"{r:.3f}", r >= 0.5)
    _check_5xx(row, page, bare)
    return row


def _check_5xx(row: Row, *stats) -> None:
    bad = sum(s.errors_5xx for s in stats)
    if bad:
        row.violations.append(f"{bad} 5xx or failed requests")
    if any(set(s.statuses) - {200} for s in stats):
        row.passed = False
        row.figure += f" statuses {dict(stats[0].statuses)}"


def render_home(repeat: int) -> tuple[float, float]:
    """The catalog home rendered in this process with the Django test Client (production settings,
    the bench's database, no cache): median ms over ``repeat`` requests, and the HTML's KB."""
    from django.test import Client
    from django.test.utils import override_settings

    client = Client()
    times, size = [], 0
    no_cache = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
                # production keeps sessions in a cache alias of their own: a local one here
                "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=no_cache):
        client.get("/", secure=True)  # warm: templates compiled, connection open
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get("/", secure=True)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
            size = len(response.content)
    return statistics.median(times) * 1000, size / 1024


def render_rows(repeat: int) -> list[Row]:
    from . import seed

    n = len(seed.home_courses())
    ms56, kb56 = render_home(repeat)
    ids = seed.catalog_times(10)
    try:
        n10 = len(seed.home_courses())
        ms560, kb560 = render_home(max(3, repeat // 4))
    finally:
        seed.remove(ids)
    return [
        Row("c56", f"catalog home render in-process, {n} classes", f"{ms56:.1f} ms, {kb56:.0f} KB",
            "≤ 10 ms uncached", "", ms56 <= 10),
        Row("c560", f"catalog home render in-process, {n10} classes", f"{ms560:.1f} ms, {kb560:.0f} KB",
            "< 2 × the 56-class figure", f"{ratio(ms560, ms56):.2f}", ms560 < 2 * ms56),
    ]


def locked_row(base_url: str, course_id: int, course_path: str, seconds: float, *, other_path: str,
               hold: float = 10.0) -> Row:
    """The rest of the site (catalog home and another course page, 8 clients) while one course row
    is held ``FOR UPDATE`` by another connection for ``hold`` seconds and 4 other clients keep trying
    to buy that course (each waits out the lock timeout, then gets "busy, try again"); "normal" is
    the same 8 + 4 clients without the lock, half measured before and half after (a noisy machine
    changes both alike). The buyers are clients of their own, so a buyer waiting on the lock does
    not slow the rest of the site's load: what this row measures is whether the server does."""
    import psycopg
    from django.conf import settings

    from .flows import checkout_to_held
    from .load import Stats

    async def site(client, i):
        await client.get("/" if i % 2 else other_path, label="site")

    async def buyer(client, i):
        await checkout_to_held(client, course_path, course_id, 900000 + i)

    async def both(duration, recorder):
        await asyncio.gather(closed_loop(base_url, 8, site, duration=duration, recorder=recorder),
                             closed_loop(base_url, 4, buyer, duration=duration, recorder=recorder))
        return recorder

    normal, checkouts = Stats(), {}

    def plain(duration):
        recorder = asyncio.run(both(duration, Recorder()))
        normal.merge(recorder.stats("site"))

    plain(seconds / 2)
    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST']} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER']}"
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with psycopg.connect(dsn) as conn:
            conn.execute("SELECT id FROM classes_course WHERE id = %s FOR UPDATE", [course_id])
            locked.set()
            release.wait(hold + 30)

    holder = threading.Thread(target=hold_lock, daemon=True)
    holder.start()
    locked.wait(10)
    recorder = Recorder()
    try:
        asyncio.run(both(hold, recorder))
    finally:
        release.set()
        holder.join(10)
    plain(seconds / 2)
    during = recorder.stats("site")
    checkouts = dict(recorder.stats("checkout place").statuses)
    r_rps, r_p95 = ratio(during.rps, normal.rps), ratio(during.ms(95), normal.ms(95))
    row = Row("j", "one course row locked 10 s: rest of the site",
              f"{during.rps:.0f} req/s p95 {during.ms(95):.0f} ms vs normal {normal.rps:.0f} req/s "
              f"p95 {normal.ms(95):.0f} ms; checkouts of the locked class: {checkouts}",
              "within 20 % of normal", f"{r_rps:.2f} / p95 ×{r_p95:.2f}", r_rps >= 0.8 and r_p95 <= 1.2)
    bad = during.errors_5xx + normal.errors_5xx
    if bad:
        row.violations.append(f"{bad} 5xx or failed requests")
    return row
