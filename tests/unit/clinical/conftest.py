"""Fixtures for the clinical tests: a pinned clock and an engine with default rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vitalstream.clinical import AlertEngine, EngineConfig, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 4, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def engine(clock: ManualClock) -> AlertEngine:
    return AlertEngine(EngineConfig(), clock)
