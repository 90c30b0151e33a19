"""A dashboard on a temporary home (embedded log, DuckDB warehouse or PostgreSQL), and the
browser: Debian's chromium, driven by Playwright (never `playwright install`).

Chromium comes from ``scripts/services/chromium.sh`` (``make services-up``); the tests find it
through ``VITALSTREAM_TEST_CHROMIUM`` (default ``/usr/bin/chromium``). Missing: skipped with
a message, but a failure under ``CI=true``. Screenshots go to ``test-artifacts/browser/``
(``VITALSTREAM_TEST_ARTIFACTS`` overrides the directory).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_helpers import RunningDashboard, start_dashboard

REPO_ROOT = Path(__file__).resolve().parents[3]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("VITALSTREAM_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        problem = f"no chromium at {path}: run scripts/services/chromium.sh start (or make services-up)"
        if _in_ci():
            pytest.fail(f"CI=true and {problem}", pytrace=False)
        pytest.skip(problem)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if _in_ci():
            pytest.fail("CI=true and playwright is not installed (the dev extra has it)", pytrace=False)
        pytest.skip("playwright is not installed: make .venv/.stamp-dev")
    return path


@pytest.fixture(scope="session")
def artefacts() -> Path:
    d = Path(os.environ.get("VITALSTREAM_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts") / "browser"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[RunningDashboard]:
    with start_dashboard(tmp_path) as d:
        yield d


@pytest.fixture
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()
