"""What the "server needed" suites (race, browser, stripe, faults) check before they run.

Outside CI a missing server is a skip whose reason is printed in the summary (``-ra`` is in the
pytest options in ``pyproject.toml``); in CI (``CI=true``) it is a failure, so a green CI
always means every suite really ran. See ARCHITECTURE.md §8.
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def in_ci() -> bool:
    """Whether this run is CI's (``CI=true``), where every suite is required."""
    return os.environ.get("CI", "").strip().lower() == "true"


def need(condition: bool, what: str) -> None:
    """Go on when ``condition`` holds; otherwise skip (outside CI) or fail (in CI) saying that
    the test needs ``what``."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI requires {what}, and it is missing.", pytrace=False)
    reason = f"needs {what} (skipped outside CI; CI=true makes this a failure)"
    pytest.skip(reason, allow_module_level=True)


def require_postgres(alias: str = "default") -> None:
    """The race tests need real PostgreSQL: real row locks, real concurrent connections."""
    from django.db import connections

    need(
        connections[alias].vendor == "postgresql",
        "PostgreSQL (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/library_classes)",
    )


def require_playwright() -> None:
    """The playwright package (a dev dependency); callable at module level, before importing it."""
    need(importlib.util.find_spec("playwright") is not None, "the playwright package (pip install -e '.[dev]')")


def require_chromium() -> str:
    """The browser tests need Debian's Chromium at /usr/bin/chromium and the playwright package
    (never ``playwright install``). Returns the executable's path."""
    require_playwright()
    need(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    return str(CHROMIUM)


def require_executable(name: str) -> str:
    """A program on PATH (e.g. ``redis-server``); returns its path."""
    path = shutil.which(name)
    need(path is not None, f"the {name} program on PATH")
    return path


@pytest.fixture
def postgres():
    """Use in a test (or autouse in a conftest) that needs PostgreSQL."""
    require_postgres()
