"""The embedded :class:`Producer`: buffer per partition, one transaction per flush.

Keyed records go to :func:`partition_for`, unkeyed ones round-robin. :meth:`flush` appends
one batch row per partition and moves the partition's high watermark in a single IMMEDIATE
transaction, so a flush is all-or-nothing; on a SQLite error the records stay buffered for a
retry.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ...errors import LogUnavailable, TopicError
from ..base import Headers, Producer, partition_for
from .db import Db, TopicCache, batch_encoder, epoch_ms

if TYPE_CHECKING:
    from .admin import EmbeddedLog


class EmbeddedProducer(Producer):
    atomic_flush = True  # one flush is one SQLite transaction

    def __init__(self, log: EmbeddedLog) -> None:
        self._db = Db(log.path, log.sync)
        self._topics = TopicCache(self._db)
        # (topic id, partition) -> list of (timestamp_ms, key, value, headers)
        self._buffer: dict[tuple[int, int], list[tuple[int, bytes | None, bytes, list[tuple[str, bytes]] | None]]] = (
            defaultdict(list)
        )
        self._rr: dict[str, int] = defaultdict(int)

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        partition: int | None = None,
    ) -> None:
        tid, parts = self._topics.get(topic)
        if partition is None:
            if key is not None:
                partition = partition_for(key, parts)
            else:
                partition = self._rr[topic] % parts
                self._rr[topic] += 1
        elif not 0 <= partition < parts:
            raise TopicError(f"topic {topic!r} has no partition {partition}")
        self._buffer[(tid, partition)].append(
            (
                epoch_ms() if timestamp_ms is None else timestamp_ms,
                key,
                value,
                list(headers) if headers else None,
            )
        )

    def send_many(
        self,
        topic: str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None:
        tid, parts = self._topics.get(topic)
        ts = epoch_ms() if timestamp_ms is None else timestamp_ms
        h = list(headers) if headers else None
        buf = self._buffer
        for key, value in items:
            if key is None:
                p = self._rr[topic] % parts
                self._rr[topic] += 1
            else:
                p = partition_for(key, parts)
            buf[(tid, p)].append((ts, key, value, h))

    def send_batch(self, topic: str, rows: Sequence[tuple[bytes | None, bytes, int | None]],
                   partitions: Sequence[int] | None = None) -> None:
        tid, parts = self._topics.get(topic)
        if partitions is not None and not all(0 <= p < parts for p in partitions):
            raise TopicError(f"topic {topic!r} has no partition {max(partitions)}")
        buf = self._buffer
        lists: dict[int, list[tuple[int, bytes | None, bytes, list[tuple[str, bytes]] | None]]] = {}  # by partition
        now: int | None = None
        for i, (key, value, ts) in enumerate(rows):
            if partitions is not None:
                p = partitions[i]
            elif key is None:
                p = self._rr[topic] % parts
                self._rr[topic] += 1
            else:
                p = partition_for(key, parts)
            if ts is None:
                ts = now = now or epoch_ms()
            into = lists.get(p)
            if into is None:
                into = lists[p] = buf[(tid, p)]
            into.append((ts, key, value, None))

    def flush(self, timeout: float | None = None) -> None:
        if not self._buffer:
            return
        buffer, self._buffer = self._buffer, defaultdict(list)
        try:
            with self._db.write() as c:
                for (tid, p), rows in buffer.items():
                    row = c.execute(
                        "SELECT high FROM partitions WHERE topic_id=? AND partition=?", (tid, p)
                    ).fetchone()
                    if row is None:
                        raise TopicError("a topic was deleted while records for it were buffered")
                    high = row[0]
                    data = batch_encoder.encode([(high + i, ts, k, v, h) for i, (ts, k, v, h) in enumerate(rows)])
                    c.execute(
                        "INSERT INTO batches VALUES(?,?,?,?,?,?)",
                        (tid, p, high, high + len(rows) - 1, max(r[0] for r in rows), data),
                    )
                    c.execute(
                        "UPDATE partitions SET high=? WHERE topic_id=? AND partition=?",
                        (high + len(rows), tid, p),
                    )
        except sqlite3.Error as exc:
            # Keep the records buffered so a retry after the transient failure loses nothing.
            for k, rows in buffer.items():
                self._buffer[k][:0] = rows
            raise LogUnavailable(f"embedded log write failed: {exc}") from exc

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()
