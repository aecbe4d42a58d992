"""Fixtures of the browser suite: Playwright (sync API) driving Debian's Chromium against
pytest-django's live server. Never ``playwright install``: the driver ships in the playwright
wheel and the browser is the system's /usr/bin/chromium (``.ci/run`` installs it with apt).

Playwright's sync API keeps its own asyncio loop marked as running in this thread while the
browser is up, and Django then refuses ORM calls from the test ("SynchronousOnlyOperation").
No coroutine ever runs at the same time as the test's code (greenlets switch only inside
Playwright calls), so the refusal is a false alarm here: the ``browser`` fixture sets
``DJANGO_ALLOW_ASYNC_UNSAFE`` for exactly as long as Playwright runs, and it is package-scoped,
so Playwright, its loop and the flag are all gone before any test outside this folder runs.
"""

import os
from collections.abc import Iterator

import pytest

from tests.servers import require_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One headless Chromium for the browser suite (skips, or fails in CI, without it)."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context (no cookies, no storage) and page for each test."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def live_url(live_server) -> str:
    """The live server's base URL, without a trailing slash (the test DB is transactional)."""
    return live_server.url.rstrip("/")


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The ids of the outbox messages whose delivery task was queued (on commit, by the app);
    nothing consumes the in-memory broker in tests, so a test delivers them itself."""
    from core import tasks as core_tasks

    ids: list[int] = []
    monkeypatch.setattr(core_tasks.outbox_deliver, "delay", lambda message_id, *a, **kw: ids.append(message_id))
    monkeypatch.setattr(core_tasks.outbox_deliver_batch, "delay", lambda message_ids, *a, **kw: ids.extend(message_ids))
    return ids
