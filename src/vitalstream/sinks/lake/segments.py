"""Segments in memory: a polled batch cut into runs, and the open segment of each partition.

A *run* is a maximal slice of one batch whose records share partition, event-time hour and
offset chunk (``offset // rotate_records``); consecutive runs of one partition with the same
hour and chunk belong to one segment (see :mod:`vitalstream.sinks.lake`). The cut is computed
on the batch's columns with numpy, never record by record.

An :class:`OpenSegment` holds its rows as Arrow tables: ``durable`` ones (already in staged
parts, or read back from them) and ``pending`` ones that only the log holds so far (the log is
their write-ahead log: their offsets are not committed until they are written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ...log.base import TopicPartition
from .layout import HOUR_MS

if TYPE_CHECKING:
    import pyarrow as pa


class Run(NamedTuple):
    tp: TopicPartition
    hour: int
    chunk: int
    first: int  # offset of its first record
    last: int  # offset of its last record
    table: pa.Table  # raw columns: a slice of the batch
    batch_rows: int  # rows of the batch it is a slice of (all kept in memory while it lives)


def runs(table: pa.Table, rotate: int) -> list[Run]:
    """The runs of a batch's raw columns, in order within each partition."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    if n == 0:
        return []
    topics = pc.dictionary_encode(table.column("topic")).combine_chunks()
    names = topics.dictionary.to_pylist()
    tp = (topics.indices.to_numpy().astype(np.int64) << 32) | table.column("partition").to_numpy()
    changes = np.flatnonzero(tp[1:] != tp[:-1]) + 1
    if len(changes) + 1 != len({tp[0].item(), *tp[changes].tolist()}):  # a partition in two blocks
        # partitions interleaved (a log returns them in blocks): group them, each in its order
        order = np.argsort(tp, kind="stable")
        table, tp = table.take(pa.array(order)), tp[order]
    offsets = table.column("offset").to_numpy()
    hours = table.column("timestamp").to_numpy().view(np.int64) // HOUR_MS  # datetime64[ms] as ms
    chunks = offsets // rotate
    cut = np.flatnonzero((tp[1:] != tp[:-1]) | (hours[1:] != hours[:-1]) | (chunks[1:] != chunks[:-1])) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    return [
        Run((names[key >> 32], key & 0xFFFFFFFF), hour, chunk, first, last, table.slice(a, b - a), n)
        for key, hour, chunk, first, last, a, b in zip(
            tp[starts].tolist(), hours[starts].tolist(), chunks[starts].tolist(), offsets[starts].tolist(),
            offsets[ends - 1].tolist(), starts.tolist(), ends.tolist(), strict=True)
    ]


def own(tables: Sequence[pa.Table]) -> pa.Table:
    """``tables`` as one table in buffers of its own. A slice shares its batch's buffers and
    keeps the whole batch in memory as long as it lives (``combine_chunks`` of a single chunk
    returns it as is; of several it copies)."""
    import pyarrow as pa

    return pa.concat_tables([*tables, tables[0].slice(0, 0)]).combine_chunks()


@dataclass(slots=True)
class OpenSegment:
    """The open segment of one partition. Mutable: the sink changes a :meth:`clone` while a
    batch is written, and keeps it only once the batch's files are."""

    topic: str
    partition: int
    start: int  # offset of its first record: the file's name
    hour: int
    chunk: int
    last: int  # offset of its last record so far
    durable: list[pa.Table] = field(default_factory=list)  # in staged parts already
    pending: list[pa.Table] = field(default_factory=list)  # held by the log only: not committed yet
    pending_first: int = 0  # offset of the first pending record
    pending_since: float = 0.0  # when it arrived (time.monotonic)
    owned: int = 0  # how many of the pending tables have buffers of their own (the rest are slices)
    pinned: int = 0  # rows of the batches the pending slices keep in memory
    staged: bool = False  # whether it has parts under _staging (to clean up once final)

    @classmethod
    def begin(cls, run: Run, now: float) -> OpenSegment:
        topic, partition = run.tp
        return cls(topic, partition, run.first, run.hour, run.chunk, run.last, [], [run.table], run.first, now,
                   0, run.batch_rows)

    def clone(self) -> OpenSegment:
        return OpenSegment(self.topic, self.partition, self.start, self.hour, self.chunk, self.last,
                           list(self.durable), list(self.pending), self.pending_first, self.pending_since,
                           self.owned, self.pinned, self.staged)

    def extend(self, run: Run, now: float) -> None:
        if not self.pending:
            self.pending_first, self.pending_since = run.first, now
        self.pending.append(run.table)
        self.pinned += run.batch_rows
        self.last = run.last

    def compact(self) -> None:
        """Copy the pending slices out of their batches (see :func:`own`), each row once."""
        self.pending[self.owned:] = [own(self.pending[self.owned:])]
        self.owned, self.pinned = len(self.pending), 0

    def made_durable(self, table: pa.Table) -> None:
        """Its pending rows (``table``, from :meth:`pending_table`) are in a part now."""
        self.durable.append(table)
        self.pending, self.owned, self.pinned, self.staged = [], 0, 0, True

    @property
    def committable(self) -> int:
        """The offset to commit: every record before it is durable."""
        return self.pending_first if self.pending else self.last + 1

    def table(self) -> pa.Table:
        import pyarrow as pa

        return pa.concat_tables([*self.durable, *self.pending])

    def pending_table(self) -> pa.Table:
        """The pending rows in one table of their own."""
        return own(self.pending)
