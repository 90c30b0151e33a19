"""What a test needs from outside the repository (a service, seed data, broker binaries).

When it is missing the test skips with a message saying how to provide it — except under
``CI=true``, where it fails: CI must never go green by skipping. Every such check goes
through :func:`missing`, so no test skips silently in CI.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(problem: str) -> NoReturn:
    """Fail (under CI) or skip (elsewhere) because ``problem``; say how to fix it in it."""
    if in_ci():
        pytest.fail(f"CI=true and {problem}", pytrace=False)
    pytest.skip(problem)
