"""Replay recorded smartwatch events to an ingest server, like the original smartwatch client.

    replay("watch.jsonl", "http://127.0.0.1:62333/stream", speed=10)   # 10x real time
    replay("watch.jsonl", url, fast=True)                               # as fast as accepted

The file holds one event per line in either smartwatch-event variant. Events are sent in timestamp
order — so each device's events stay in its own order — in batches of whatever is due, at
``speed`` times the recorded pace (``fast``: no waiting). 429/503 are retried with the
server's ``Retry-After`` (:class:`.targets.HttpTarget`). Lines that are not JSON or have no
readable time are still sent, in file position, so the server dead-letters them with a reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from ..errors import ConfigError
from .targets import HttpTarget, SendStats

logger = logging.getLogger(__name__)

_any = msgspec.json.Decoder()


def event_time(value: bytes) -> float | None:
    """Epoch seconds of a recorded event (either variant), or None."""
    try:
        obj = _any.decode(value)
    except msgspec.DecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    ts = obj.get("timestamp")
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return float(ts)
    date = obj.get("date")
    if isinstance(date, str):
        try:
            when = datetime.fromisoformat(date)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    return None


def load_events(path: Path) -> list[tuple[float, bytes]]:
    """``(time, line)`` sorted by time; untimed lines keep their place after the last time."""
    out: list[tuple[float, int, bytes]] = []
    last = float("-inf")
    with path.open("rb") as f:
        for i, raw in enumerate(f):
            line = raw.strip()
            if not line:
                continue
            ts = event_time(line)
            if ts is None:
                ts = last
            last = ts
            out.append((ts, i, line))
    out.sort(key=lambda x: (x[0], x[1]))
    return [(ts, line) for ts, _, line in out]


def replay(
    path: str | Path,
    url: str,
    api_key: str | None = None,
    speed: float = 1.0,
    fast: bool = False,
    batch_size: int = 500,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[int, int], None] | None = None,
) -> SendStats:
    """Replay a JSON-lines recording to ``url`` (``.../stream``); return what happened."""
    if speed <= 0:
        raise ConfigError("--speed must be > 0")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file} is not a file")
    events = load_events(file)
    target = HttpTarget(url, api_key)
    try:
        if not events:
            return target.stats
        first = next((ts for ts, _ in events if ts != float("-inf")), 0.0)
        start = clock()
        i = 0
        while i < len(events):
            if not fast:
                due = (max(events[i][0], first) - first) / speed
                ahead = due - (clock() - start)
                if ahead > 0:
                    sleep(ahead)
            now_offset = (clock() - start) * speed + first
            j = i + 1
            while j < len(events) and j - i < batch_size and (fast or events[j][0] <= now_offset):
                j += 1
            target.post([line for _, line in events[i:j]])
            i = j
            if progress:
                progress(i, len(events))
        return target.stats
    finally:
        target.close()
