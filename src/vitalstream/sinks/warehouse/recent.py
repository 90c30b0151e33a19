"""Which recent ids a DuckDB vital table holds, known in the sink's process: most batches then
append without reading the table.

A vital row is inserted unless its table holds its ``event_id`` among the rows whose
``event_time`` is at least the batch's earliest minus the window (duckdb.py). The anti-join that
checks it scans that slice of the table for every batch: all of a table's last minute of data,
~1.2 CPU-µs per loaded row in the sink bench. :class:`RecentIds` answers most batches instead:

* per table it holds the hash of the id of **every** row whose event time is at least the
  table's ``floor``, in 10-second buckets of event time (memory ~60 bytes an id, at most ``cap``
  ids in all; the oldest buckets go first and raise the floor);
* a batch whose window starts at or after the floor and none of whose ids' hashes is in a
  bucket the window reaches provably repeats no stored row: it is appended as is. Any other
  batch (an id seen before: a replay, a hash collision; data older than the floor) is checked
  against the table as before, so a hit never drops a row;
* the ids come from the table itself: a table is read (its last ``keep`` of event time, at most
  ``cap`` rows) the first time a batch reaches it, and again whenever another writer may have
  loaded since, which the one-row table ``warehouse_loads`` tells: every load that appends to a
  vital table writes its writer's token and a sequence number there, in the same transaction,
  and a load finding another token or number than its own last one forgets every table. So a
  kill -9, a restart, a second sink process taking turns on the file or a failed load never
  leave an id unknown (``tests/unit/sinks/test_warehouse_recent.py``).

What a batch adds is noted only after its transaction committed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import schema as S

if TYPE_CHECKING:
    import pyarrow as pa

BUCKET_US = 10_000_000  # event time per bucket
LOADS_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS warehouse_loads (writer VARCHAR NOT NULL, seq BIGINT NOT NULL)",
    "INSERT INTO warehouse_loads SELECT '', 0 WHERE NOT EXISTS (SELECT 1 FROM warehouse_loads)",
)
MARK_SQL = "UPDATE warehouse_loads SET writer = ?, seq = ?"
_TAKE_SQL = "UPDATE warehouse_loads SET writer = ?, seq = ? WHERE writer = ? AND seq = ?"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


@dataclass
class _Index:
    floor: int | None  # every stored row with event time >= floor (µs) is here; None: every row
    ids: set[int] = field(default_factory=set)  # the hashes of their ids
    buckets: dict[int, list[int]] = field(default_factory=dict)  # bucket -> hashes, to let them go
    shared: bool = False  # some hash was added twice (is in two buckets): see _trim


@dataclass
class Added:
    """What a batch adds to a table's index once its transaction committed."""

    table: str
    bucket: int  # of the batch's newest row: an id kept a little longer is still exact
    hashes: list[int]


class RecentIds:
    def __init__(self, window: timedelta, keep: timedelta, cap: int) -> None:
        self.window_us = window // _US
        self.keep_us = max(keep, window) // _US
        self.cap = cap
        self.token = uuid.uuid4().hex
        self._seq = 0
        self._seen: tuple[str, int] | None = None  # warehouse_loads as this process left it
        self._tables: dict[str, _Index] = {}
        self.appended = self.checked = 0  # batches appended as is / checked against the table

    def begin(self, conn: Any) -> None:
        """At the start of a load transaction: note this writer as the last one, and forget every
        table if another writer loaded since (one statement: each costs ~0.3 ms to parse and plan)."""
        seq = self._seen[1] if self._seen and self._seen[0] == self.token else -1
        [mine] = conn.execute(_TAKE_SQL, [self.token, self._seq + 1, self.token, seq]).fetchone()
        if not mine:
            self._tables.clear()
            conn.execute(MARK_SQL, [self.token, self._seq + 1])

    def check(self, conn: Any, table: S.Table, rows: pa.Table) -> tuple[bool, Added]:
        """Whether ``rows`` (one per id) can be appended as is, and what they add once committed."""
        import pyarrow.compute as pc

        index = self._tables.get(table.name)
        if index is None:
            index = self._tables[table.name] = self._read(conn, table)
        hashes = list(map(hash, rows.column(table.key[0]).to_pylist()))
        span = pc.min_max(rows.column(table.window)).as_py()
        lo = (span["min"] - _EPOCH) // _US - self.window_us
        # No hash in the index: no stored row of the window has an id of the batch. A hash in it
        # (a replay, an id reused, a collision) or a window reaching below the floor: ask the table.
        fresh = (index.floor is None or index.floor <= lo) and index.ids.isdisjoint(hashes)
        if fresh:
            self.appended += 1
        else:
            self.checked += 1
        return fresh, Added(table.name, ((span["max"] - _EPOCH) // _US) // BUCKET_US, hashes)

    def committed(self, added: list[Added]) -> None:
        """The transaction :meth:`begin` started committed: note its ids, keep within the bounds."""
        self._seq += 1
        self._seen = (self.token, self._seq)
        for a in added:
            index = self._tables.get(a.table)
            if index is None:
                continue
            n = len(index.ids)
            index.ids.update(a.hashes)
            index.shared |= len(index.ids) - n != len(a.hashes)
            index.buckets.setdefault(a.bucket, []).extend(a.hashes)
            self._trim(index, (max(index.buckets) + 1) * BUCKET_US - self.keep_us)
        total = self.size()
        while total > self.cap:  # the oldest bucket of all goes first
            index = min((i for i in self._tables.values() if i.buckets), key=lambda i: min(i.buckets))
            b = min(index.buckets)
            total -= len(index.ids)
            self._trim(index, (b + 1) * BUCKET_US)
            total += len(index.ids)

    def forget(self) -> None:
        """A load failed: read every table again before trusting what is known."""
        self._tables.clear()
        self._seen = None

    def size(self) -> int:
        return sum(len(i.ids) for i in self._tables.values())

    @staticmethod
    def _trim(index: _Index, floor: int) -> None:
        """Drop the buckets wholly before ``floor`` (µs); the index's floor rises past them."""
        old = [b for b in index.buckets if (b + 1) * BUCKET_US <= floor]
        if not old:
            return
        gone = [h for b in old for h in index.buckets.pop(b)]
        index.ids.difference_update(gone)
        if index.shared:  # a hash also in a newer bucket stays
            gone_set = set(gone)
            for hs in index.buckets.values():
                index.ids.update(h for h in hs if h in gone_set)
        end = (max(old) + 1) * BUCKET_US  # every row before it may now be unknown
        index.floor = end if index.floor is None else max(index.floor, end)

    def _read(self, conn: Any, table: S.Table) -> _Index:
        """The table's ids of its last ``keep`` of event time (at most ``cap`` rows)."""
        q, key, at = S.q, S.q(table.key[0]), S.q(table.window or "")
        newest = conn.execute(f"SELECT epoch_us(max({at})) FROM {q(table.name)}").fetchone()[0]
        if newest is None:
            return _Index(floor=None)  # empty: every row (none) is known
        floor = int(newest) - self.keep_us
        since = _EPOCH + timedelta(microseconds=floor)  # a time, so DuckDB's zone maps skip old row groups
        rows = conn.execute(f"SELECT {key}, epoch_us({at}) FROM {q(table.name)} WHERE {at} >= ? "
                            f"ORDER BY {at} DESC LIMIT ?", [since, self.cap + 1]).fetchall()
        if len(rows) > self.cap:  # the oldest time read may have more rows than were read
            rows = rows[:self.cap]
            floor = int(rows[-1][1]) + 1
            rows = [r for r in rows if r[1] >= floor]
        index = _Index(floor=floor)
        for ident, t in rows:
            index.buckets.setdefault(t // BUCKET_US, []).append(hash(ident))
        for hs in index.buckets.values():
            index.ids.update(hs)
        index.shared = len(index.ids) != len(rows)
        return index
