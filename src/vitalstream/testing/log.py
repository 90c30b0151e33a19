"""A throw-away log for tests, and helpers that read or catch what was written.

:func:`memory_log` is not a toy: it is the real embedded backend (SQLite in WAL mode) on a
temporary directory that disappears afterwards, so it keeps every promise of the log
contract (``tests/contract/log_contract.py`` runs over it) — offsets, consumer groups,
commits, durability across handles and processes (its ``url`` opens the same log)::

    with memory_log() as log:
        T.ensure_all(log, partitions=2)
        ...
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..log.base import Headers, Log, Record


@contextlib.contextmanager
def memory_log(dir: str | Path | None = None) -> Iterator[Log]:
    """An embedded log in a fresh temporary directory (under ``dir``; ``"/dev/shm"`` keeps it
    in RAM), closed and deleted on exit."""
    from ..log.embedded import EmbeddedLog

    with tempfile.TemporaryDirectory(prefix="vitalstream-log-", dir=dir) as tmp:
        log = EmbeddedLog(f"sqlite:///{Path(tmp).resolve()}/log.db")
        try:
            yield log
        finally:
            log.close()


def read_topic(log: Log, topic: str, timeout: float = 0.2) -> list[Record]:
    """Every record currently in ``topic`` (a fresh consumer group each call)."""
    with log.consumer(f"read-{uuid.uuid4().hex[:8]}", [topic]) as c:
        out: list[Record] = []
        while batch := c.poll(timeout=timeout):
            out += batch
        return out


Sent = tuple[str, bytes, bytes | None, Headers]


class ListProducer:
    """A producer double that keeps what was flushed: ``records`` is ``[(topic, value, key,
    headers)]``, for code under test that only needs somewhere to send (no log at all)."""

    def __init__(self) -> None:
        self.buffer: list[Sent] = []
        self.records: list[Sent] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None, headers: Headers = (),
             timestamp_ms: int | None = None, partition: int | None = None) -> None:
        self.buffer.append((topic, value, key, headers))

    def flush(self, timeout: float | None = None) -> None:
        self.records += self.buffer
        self.buffer = []

    def close(self) -> None:
        self.flush()
