"""Helpers shared by the clinical tests (imported by name; conftest holds the fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from vitalstream.clinical import RuleConfig
from vitalstream.events.canonical import Vital

T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)


def vital(
    second: float, patient_id: str = "p1", event_id: str | None = None, **fields: Any
) -> Vital:
    """A vital ``second`` seconds after T0; its event id is derived from patient and time."""
    return Vital(
        event_id=event_id or f"{patient_id}-{second}",
        patient_id=patient_id,
        source="vitals",
        event_time=T0 + timedelta(seconds=second),
        **fields,
    )


def instant(cfg: RuleConfig) -> RuleConfig:
    """The rule without persistence, suppression or clear delay: thresholds in isolation."""
    return cfg.with_(persistence_s=None, k_of_n=None, clear_samples=1, suppression_s=0.0)
