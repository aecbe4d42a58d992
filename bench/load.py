"""The load generator: a closed loop of N clients on asyncio + aiohttp, each with its own cookie jar,
recording every request's latency and status by label.

The stack is served as production behind a proxy: gunicorn on plain HTTP on the loopback, the app
trusting ``X-Forwarded-Proto: https`` (``SECURE_PROXY_SSL_HEADER``). So every request carries that
header, the cookie jar treats the server as a secure origin (the session and CSRF cookies are
``Secure``), and a POST carries the ``Origin`` and ``Referer`` a browser sends (Django's CSRF check
over HTTPS compares them with the host)."""

import asyncio
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import aiohttp

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Stats:
    """Latencies (seconds) and status codes of one label over ``elapsed`` seconds of wall time."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    def add(self, latency: float, status: int) -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1

    def merge(self, other: "Stats") -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.elapsed += other.elapsed

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def errors_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status < 0)

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000

    def line(self) -> str:
        codes = ",".join(f"{s}:{n}" for s, n in sorted(self.statuses.items()))
        return (f"{self.rps:8.1f} req/s  p50 {self.ms(50):7.1f} ms  p95 {self.ms(95):7.1f} ms  "
                f"p99 {self.ms(99):7.1f} ms  n={self.count} [{codes}]")


class Recorder:
    """Stats per label, for one measured stretch of time."""

    def __init__(self):
        self.by_label: dict[str, Stats] = defaultdict(Stats)

    def add(self, label: str, latency: float, status: int) -> None:
        self.by_label[label].add(latency, status)

    def stats(self, label: str) -> Stats:
        return self.by_label[label]

    def all_5xx(self) -> int:
        return sum(s.errors_5xx for s in self.by_label.values())


@dataclass
class Response:
    status: int
    text: str
    headers: dict
    url: str

    def csrf(self) -> str:
        match = CSRF_INPUT.search(self.text)
        return match.group(1) if match else ""


class Client:
    """One visitor: its own aiohttp session and cookie jar."""

    def __init__(self, base_url: str, recorder: Recorder, *, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.host = self.base_url.split("://", 1)[1]
        self.recorder = recorder
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[self.base_url])
        self.session = aiohttp.ClientSession(
            cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=1, force_close=False),
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"},
        )

    async def close(self) -> None:
        await self.session.close()

    def csrf_cookie(self) -> str:
        for cookie in self.session.cookie_jar:
            if cookie.key == "csrftoken":
                return cookie.value
        return ""

    async def request(self, method: str, path: str, *, label: str | None = None, data=None, json_body=None,
                      headers: dict | None = None, read: bool = True) -> Response:
        """One request (redirects not followed), timed and recorded under ``label`` (the path if None).
        A connection failure or timeout is recorded as status -1 and returned as such."""
        url = path if path.startswith("http") else self.base_url + path
        extra = dict(headers or {})
        if method == "POST":
            extra.setdefault("Origin", f"https://{self.host}")
            extra.setdefault("Referer", f"https://{self.host}/")
        start = time.perf_counter()
        try:
            async with self.session.request(method, url, data=data, json=json_body, headers=extra,
                                            allow_redirects=False) as response:
                text = await response.text() if read else ""
                status, got = response.status, dict(response.headers)
        except (TimeoutError, aiohttp.ClientError):
            status, text, got = -1, "", {}
        self.recorder.add(label or path, time.perf_counter() - start, status)
        return Response(status, text, got, url)

    async def get(self, path: str, **kw) -> Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, data=None, **kw) -> Response:
        return await self.request("POST", path, data=data, **kw)


async def closed_loop(base_url: str, clients: int, action, *, duration: float | None = None,
                      count: int | None = None, recorder: Recorder | None = None) -> Recorder:
    """``clients`` clients each run ``await action(client, i)`` in a loop until ``duration`` seconds
    have passed or ``count`` actions were started in all. ``action`` may return False to stop that
    client. Every label's ``elapsed`` is the loop's wall time."""
    recorder = recorder or Recorder()
    started = 0
    deadline = time.perf_counter() + duration if duration else None

    async def run(n: int) -> None:
        nonlocal started
        client = Client(base_url, recorder)
        try:
            while True:
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                if count is not None and started >= count:
                    return
                started += 1
                if await action(client, started) is False:
                    return
        finally:
            await client.close()

    begin = time.perf_counter()
    await asyncio.gather(*(run(n) for n in range(clients)))
    elapsed = time.perf_counter() - begin
    for stats in recorder.by_label.values():
        stats.elapsed = elapsed
    return recorder


async def interleaved(base_url: str, path: str, clients: int, seconds: float, *, slices: int = 4,
                      bare: str = "/healthz") -> tuple[Stats, Stats]:
    """The page and the bare view measured in alternating slices of the same length (page, bare,
    page, bare…), so both see the same noisy machine. Returns (page stats, bare stats)."""
    page, base = Stats(), Stats()
    each = seconds / (2 * slices)
    for _ in range(slices):
        for target, into in ((path, page), (bare, base)):
            async def hit(client, i, target=target):
                await client.get(target, label="x")
            into.merge((await closed_loop(base_url, clients, hit, duration=each)).stats("x"))
    return page, base
