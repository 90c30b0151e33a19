"""Pacing simulated traffic: event time follows the wall clock at a chosen rate.

``batches(profile, rate=200)`` yields the reference records first, then every ``tick`` the
events whose event time has come, so ``rate`` events per second flow and alert windows
(which run on event time) behave as they would with real devices. ``rate=0`` means as fast
as possible (for loading and benchmarks).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from . import Outgoing, make


def _natural_rate(profile: str, patients: int, seed: int) -> float:
    """Events per second of event time at the simulator's default 1 s interval."""
    sample = list(itertools.islice(make(profile, patients=patients, seed=seed).events(), 5000))
    span = (sample[-1].timestamp_ms - sample[0].timestamp_ms) / 1000.0
    return len(sample) / span if span > 0 else float(len(sample))


def batches(
    profile: str,
    *,
    patients: int = 50,
    seed: int = 0,
    rate: float = 200.0,
    count: int | None = None,
    tick: float = 0.1,
    max_batch: int = 5000,
    start: datetime | None = None,
) -> Iterator[list[Outgoing]]:
    if rate > 0:
        start = start or datetime.now(UTC)
        # Never faster than one reading per patient per second: seeds 1 and 3 stamp events in
        # whole seconds, so faster readings would collide (and be dropped as duplicates).
        # The achievable rate is therefore at most patients x readings-per-tick per second.
        interval = max(1.0, _natural_rate(profile, patients, seed) / rate)
        sim = make(profile, patients=patients, seed=seed, start=start, interval_s=interval)
    else:
        sim = make(profile, patients=patients, seed=seed, **({"start": start} if start else {}))
    yield list(sim.reference())
    events: Iterator[Outgoing] = sim.events()
    if count is not None:
        events = itertools.islice(events, count)
    if rate <= 0:
        while batch := list(itertools.islice(events, max_batch)):
            yield batch
        return
    pending: Outgoing | None = None
    while True:
        now_ms = int(time.time() * 1000)
        batch = []  # the list[Outgoing] of the loop above
        if pending is not None:
            if pending.timestamp_ms > now_ms:
                time.sleep(tick)
                yield batch
                continue
            batch.append(pending)
            pending = None
        for msg in events:
            if msg.timestamp_ms > now_ms or len(batch) >= max_batch:
                pending = msg
                break
            batch.append(msg)
        else:
            if batch:
                yield batch
            return
        yield batch
        time.sleep(tick)
