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
from operator import itemgetter
from typing import TYPE_CHECKING

from ...errors import LogUnavailable, TopicError
from ..base import Headers, Producer, known_partitions, partition_for
from . import batches
from .batches import Row
from .db import Db, TopicCache, epoch_ms

if TYPE_CHECKING:
    from .admin import EmbeddedLog

_TS = itemgetter(2)  # a row's timestamp


class _Pending:
    """A partition's buffered records: rows as :mod:`.batches` stores them, headers by row."""

    __slots__ = ("headers", "rows")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.headers: dict[int, Headers] = {}


class EmbeddedProducer(Producer):
    atomic_flush = True  # one flush is one SQLite transaction

    def __init__(self, log: EmbeddedLog) -> None:
        self._db = Db(log.path, log.sync)
        self._topics = TopicCache(self._db)
        self._buffer: dict[tuple[int, int], _Pending] = {}  # (topic id, partition) -> records
        self._rr: dict[str, int] = defaultdict(int)

    def _pending(self, tid: int, partition: int) -> _Pending:
        into = self._buffer.get((tid, partition))
        if into is None:
            into = self._buffer[(tid, partition)] = _Pending()
        return into

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        partition: int | None = None,
    ) -> None:
        # The lookups inline, not through helper methods: this runs once per record.
        tid, parts = self._topics.by_name.get(topic) or self._topics.get(topic)
        if partition is None:
            if key is not None:
                partition = partition_for(key, parts)
            else:
                partition = self._rr[topic] % parts
                self._rr[topic] += 1
        elif not 0 <= partition < parts:
            raise TopicError(f"topic {topic!r} has no partition {partition}")
        into = self._buffer.get((tid, partition))
        if into is None:
            into = self._buffer[(tid, partition)] = _Pending()
        if headers:
            into.headers[len(into.rows)] = tuple(headers)
        into.rows.append((key, value, epoch_ms() if timestamp_ms is None else timestamp_ms))

    def send_many(
        self,
        topic: str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None:
        tid, parts = self._topics.get(topic)
        ts = epoch_ms() if timestamp_ms is None else timestamp_ms
        h = tuple(headers) if headers else None
        for key, value in items:
            if key is None:
                p = self._rr[topic] % parts
                self._rr[topic] += 1
            else:
                p = partition_for(key, parts)
            into = self._pending(tid, p)
            if h:
                into.headers[len(into.rows)] = h
            into.rows.append((key, value, ts))

    def send_batch(self, topic: str, rows: Sequence[tuple[bytes | None, bytes, int | None]],
                   partitions: Sequence[int] | None = None) -> None:
        tid, parts = self._topics.get(topic)
        if partitions is not None and not all(0 <= p < parts for p in partitions):
            raise TopicError(f"topic {topic!r} has no partition {max(partitions)}")
        lists: dict[int, list[Row]] = {}  # by partition
        now: int | None = None
        known = known_partitions(parts)
        for i, row in enumerate(rows):
            key, value, ts = row
            if partitions is not None:
                p = partitions[i]
            elif key is None:
                p = self._rr[topic] % parts
                self._rr[topic] += 1
            else:
                q = known.get(key)
                if q is None:
                    q = known[key] = partition_for(key, parts)
                p = q
            if ts is None:
                ts = now = now or epoch_ms()
                row = (key, value, ts)
            into = lists.get(p)
            if into is None:
                into = lists[p] = self._pending(tid, p).rows
            into.append(row)  # type: ignore[arg-type]  # ts is set: stored as given, no new tuple

    def flush(self, timeout: float | None = None) -> None:
        if not self._buffer:
            return
        buffer, self._buffer = self._buffer, {}
        try:
            with self._db.write() as c:
                tids = sorted({tid for tid, _ in buffer})
                highs = {(t, p): h for t, p, h in c.execute(
                    f"SELECT topic_id, partition, high FROM partitions WHERE topic_id IN ({','.join('?' * len(tids))})",
                    tids)}
                added, moved = [], []
                for (tid, p), pending in buffer.items():
                    rows, high = pending.rows, highs.get((tid, p))
                    if high is None:
                        raise TopicError("a topic was deleted while records for it were buffered")
                    added.append((tid, p, high, high + len(rows) - 1, max(map(_TS, rows)),
                                  batches.encode(high, rows, pending.headers)))
                    moved.append((high + len(rows), tid, p))
                c.executemany("INSERT INTO batches VALUES(?,?,?,?,?,?)", added)
                c.executemany("UPDATE partitions SET high=? WHERE topic_id=? AND partition=?", moved)
        except sqlite3.Error as exc:
            # Keep the records buffered (before any sent since) so a retry loses nothing.
            for k, old in buffer.items():
                newer = self._buffer.get(k)
                if newer is not None:
                    old.headers.update({len(old.rows) + i: h for i, h in newer.headers.items()})
                    old.rows += newer.rows
                self._buffer[k] = old
            raise LogUnavailable(f"embedded log write failed: {exc}") from exc

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()
