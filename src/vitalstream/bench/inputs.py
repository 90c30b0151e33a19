"""The benchmark's input: pre-generated mixed vitals from many patients, made once per run.

Four vitals profiles (smartwatch vitals on four topics, device-gateway messages, the heart-rate
stream, smartwatch events) are generated in equal shares and merged by
event time, so every partition and every decoder sees a realistic mix. Reference records
(patient metadata, users, activities, profiles) come first so enrichment always finds them.
Generation is deterministic (fixed seeds) but for the start instant: events begin ten minutes
before the run, because a broker's time retention would delete records stamped in 2024 while
the benchmark reads them.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from ..simulate import Outgoing, make

VITALS_PROFILES = ("vitals", "device", "heart-rate", "smartwatch")


@dataclass(frozen=True, slots=True)
class Inputs:
    """Reference records to send first, then ``events`` (the measured stream)."""

    reference: list[Outgoing]
    events: list[Outgoing]

    @property
    def bytes(self) -> int:
        return sum(len(m.value) for m in self.events)

    def topics(self) -> set[str]:
        return {m.topic for m in self.events}


def recent_start() -> datetime:
    return (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def mixed_vitals(events: int, patients: int = 2000, seed: int = 7,
                 profiles: tuple[str, ...] = VITALS_PROFILES, start: datetime | None = None) -> Inputs:
    """``events`` vitals split evenly over ``profiles``, merged by event time."""
    start = start or recent_start()
    share, extra = divmod(events, len(profiles))
    per = max(1, patients // len(profiles))
    reference: list[Outgoing] = []
    streams: list[list[Outgoing]] = []
    for i, profile in enumerate(profiles):
        sim = make(profile, patients=per, seed=seed + i, start=start)
        reference += sim.reference()
        streams.append(list(itertools.islice(sim.events(), share + (1 if i < extra else 0))))
    merged = list(heapq.merge(*streams, key=lambda m: m.timestamp_ms))
    return Inputs(reference, merged)


def smartwatch_vitals(events: int, patients: int = 2000, seed: int = 7, start: datetime | None = None) -> Inputs:
    """Only the smartwatch vitals' shape (four vital topics + patient metadata): what the
    peers implement, so the peer comparison runs every implementation on identical bytes."""
    return mixed_vitals(events, patients=patients, seed=seed, profiles=("vitals",), start=start)


def chunks(items: list[Outgoing], size: int) -> Iterator[list[Outgoing]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def save_inputs(inputs: Inputs, path: str | Path) -> None:
    rows = [[m.topic, m.key, m.value, m.timestamp_ms] for m in inputs.events]
    ref = [[m.topic, m.key, m.value, m.timestamp_ms] for m in inputs.reference]
    Path(path).write_bytes(msgspec.msgpack.encode({"reference": ref, "events": rows}))


def load_inputs(path: str | Path) -> Inputs:
    raw = msgspec.msgpack.decode(Path(path).read_bytes())
    return Inputs([Outgoing(*r) for r in raw["reference"]], [Outgoing(*r) for r in raw["events"]])
