"""Every simulator: deterministic, agrees with the decoder, keys and times consistent."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice

import pytest

from vitalstream.errors import ConfigError
from vitalstream.events import VITAL_TOPICS, decode, key_of, normalise
from vitalstream.simulate import DEFAULT_START, PROFILES, Outgoing, Simulator, make


def take(sim: Simulator, n: int) -> list[Outgoing]:
    return list(islice(sim.events(), n))


@pytest.mark.parametrize("profile", list(PROFILES))
def test_deterministic_per_seed(profile: str) -> None:
    a, b, c = (make(profile, patients=7, seed=s) for s in (3, 3, 4))
    assert take(a, 500) == take(b, 500)
    assert a.reference() == b.reference()
    assert take(c, 500) != take(make(profile, patients=7, seed=3), 500)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_reference_does_not_depend_on_event_consumption(profile: str) -> None:
    fresh = make(profile, patients=5, seed=1)
    used = make(profile, patients=5, seed=1)
    take(used, 300)
    assert used.reference() == fresh.reference()


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_message_decodes_and_keys_match(profile: str) -> None:
    sim = make(profile, patients=12, seed=2, interval_s=37.0)  # spans day and night quickly
    messages = [*sim.reference(), *take(sim, 6000)]
    assert messages
    for msg in messages:
        event = decode(msg.topic, msg.value)
        assert key_of(msg.topic, event).encode() == msg.key
        if msg.topic in VITAL_TOPICS:
            for vital in normalise(msg.topic, event):
                # Outgoing.timestamp_ms is the event time (to the second for epoch-second
                # sources).
                assert abs(vital.event_time.timestamp() * 1000 - msg.timestamp_ms) < 1000


@pytest.mark.parametrize("profile", list(PROFILES))
def test_events_are_event_time_ordered(profile: str) -> None:
    stamps = [m.timestamp_ms for m in take(make(profile, patients=4, interval_s=0.5), 2000)]
    assert stamps == sorted(stamps)
    start_ms = int(DEFAULT_START.timestamp() * 1000)
    assert stamps[0] == start_ms


def test_start_and_interval_are_honoured() -> None:
    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    sim = make("device", patients=2, start=start, interval_s=60)
    msgs = take(sim, 6)
    assert [m.timestamp_ms for m in msgs[::2]] == [
        int(start.timestamp() * 1000) + i * 60_000 for i in range(3)]


def test_reference_records_topics() -> None:
    assert {m.topic for m in make("vitals", patients=3).reference()} == {"patient-metadata"}
    assert {m.topic for m in make("heart-rate", patients=3).reference()} == {
        "hr-activities", "hr-users"}
    assert {m.topic for m in make("smartwatch", patients=3).reference()} == {"user-profiles"}
    assert make("device").reference() == [] and make("notes").reference() == []


def test_make_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="unknown simulator profile"):
        make("weather")
    with pytest.raises(ValueError):
        make("vitals", patients=0)
    with pytest.raises(ValueError):
        make("vitals", interval_s=0)
    with pytest.raises(ValueError):
        make("vitals", start=datetime(2024, 1, 1))
