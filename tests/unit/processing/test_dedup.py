"""The processor's memory of recent events: repeat, conflict, and how long it remembers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from vitalstream.events.canonical import Vital
from vitalstream.processing.dedup import ConflictingDuplicate, RecentEvents, Seen

T0 = datetime(2024, 4, 1, tzinfo=UTC)


def hr(event_id: str, value: int = 61, t: datetime = T0) -> Vital:
    return Vital(event_id=event_id, patient_id="p1", source="vitals", event_time=t, heart_rate=value)


def test_repeat_and_conflict_are_told_apart() -> None:
    seen = RecentEvents()
    assert seen.check(hr("a")) is Seen.NEW
    assert seen.check(hr("a")) is Seen.REPEAT
    assert seen.check(hr("a", 190)) is Seen.CONFLICT
    assert seen.check(hr("a", t=T0 + timedelta(seconds=1))) is Seen.CONFLICT  # time is content too
    assert seen.check(msgspec.structs.replace(hr("a"), heart_rate=None, spo2=61)) is Seen.CONFLICT
    assert seen.check(hr("a")) is Seen.REPEAT  # the first reading is still the one remembered
    assert seen.check(hr("b", 190)) is Seen.NEW
    assert (seen.duplicates, seen.conflicts) == (2, 3)


def test_remembers_at_least_capacity_identities() -> None:
    seen = RecentEvents(capacity=4)
    for i in range(4):
        assert seen.check(hr(f"e{i}")) is Seen.NEW
    # the young generation became the old one: all four still remembered
    assert all(seen.check(hr(f"e{i}", 1)) is Seen.CONFLICT for i in range(4))
    for i in range(4, 8):
        seen.check(hr(f"e{i}"))
    assert seen.check(hr("e7", 1)) is Seen.CONFLICT
    assert seen.check(hr("e0", 1)) is Seen.NEW  # forgotten after two generations


def test_conflict_reason_names_no_values() -> None:
    err = ConflictingDuplicate()
    assert (err.reason, err.field) == ("conflicting duplicate", "event_id")
