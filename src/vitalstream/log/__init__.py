"""The message log: choose a backend by URL.

``sqlite:///PATH`` (or ``embedded://``) — the embedded, file-backed default;
``kafka://host:port[,host:port]`` — Apache Kafka through confluent-kafka.
Backends load lazily so ``import vitalstream`` never imports confluent_kafka.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from typing import cast

from ..errors import LogUnavailable
from ..registry import open_url
from .base import Consumer, GroupLag, Log, Producer, Record, TopicInfo, TopicSpec, partition_for


def open_log(url: str) -> Log:
    """Open the log a URL names (see :data:`vitalstream.registry.BACKENDS`); raises
    ConfigError for an unknown scheme, MissingExtraError for a missing extra."""
    return cast(Log, open_url("log", url))  # the registry's "log" backends are Logs


PRIVATE_GROUP_PREFIX = "vitalstream-private-"


def private_group(purpose: str) -> str:
    """A throwaway group id for a reader that never commits (reference tables, restores,
    ``consume`` without ``--group``); status and idle checks leave these out."""
    return f"{PRIVATE_GROUP_PREFIX}{purpose}-{uuid.uuid4().hex[:12]}"


def is_private_group(group: str) -> bool:
    return group.startswith(PRIVATE_GROUP_PREFIX)


def end_offsets(log: Log, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    """High watermark of every non-empty partition of ``topics`` now."""
    return {
        (t, p.partition): p.high
        for t in topics
        for p in log.describe_topic(t).partitions
        if p.high > p.low
    }


def drained(pending: dict[tuple[str, int], int], records: Sequence[Record]) -> None:
    """Forget the partitions in ``pending`` whose end the records reach (in place)."""
    for r in records:
        end = pending.get((r.topic, r.partition))
        if end is not None and r.offset + 1 >= end:
            del pending[(r.topic, r.partition)]


def read_all(log: Log, topics: Sequence[str], batch: int = 20_000, timeout: float = 60.0,
             purpose: str = "read") -> Iterator[Record]:
    """Every record ``topics`` held when called, from the beginning, through a private group
    that never commits (so it leaves no position behind).

    It reads up to the end offsets taken at the start: an empty poll proves nothing on Kafka,
    where a new group may not have joined yet. Raises LogUnavailable after ``timeout``.
    """
    pending = end_offsets(log, topics)
    if not pending:
        return
    deadline = time.monotonic() + timeout
    with log.consumer(private_group(purpose), list(topics)) as c:
        c.seek_to_beginning()
        while pending:
            records = c.poll(max_records=batch, timeout=0.5)
            yield from records
            drained(pending, records)
            if pending and not records and time.monotonic() > deadline:
                raise LogUnavailable(f"{purpose}: could not read {sorted(pending)} to the end in {timeout:g}s")


__all__ = [
    "Consumer",
    "GroupLag",
    "Log",
    "Producer",
    "Record",
    "TopicInfo",
    "TopicSpec",
    "drained",
    "end_offsets",
    "is_private_group",
    "open_log",
    "partition_for",
    "private_group",
    "read_all",
]
