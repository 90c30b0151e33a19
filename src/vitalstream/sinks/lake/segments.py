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

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...log.base import TopicPartition
from .layout import HOUR_MS

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Run:
    topic: str
    partition: int
    hour: int
    chunk: int
    first: int  # offset of its first record
    last: int  # offset of its last record
    table: pa.Table  # raw columns

    @property
    def tp(self) -> TopicPartition:
        return (self.topic, self.partition)


def runs(table: pa.Table, rotate: int) -> Iterator[Run]:
    """The runs of a batch's raw columns, in order within each partition."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return
    topics = pc.dictionary_encode(table.column("topic")).combine_chunks()
    names = topics.dictionary.to_pylist()
    tp = (topics.indices.to_numpy().astype(np.int64) << 32) | table.column("partition").to_numpy()
    if np.count_nonzero(tp[1:] != tp[:-1]) + 1 != len(np.unique(tp)):
        # partitions interleaved (a log returns them in blocks): group them, each in its order
        order = np.argsort(tp, kind="stable")
        table, tp = table.take(pa.array(order)), tp[order]
    offsets = table.column("offset").to_numpy()
    hours = table.column("timestamp").cast(pa.int64()).to_numpy() // HOUR_MS
    chunks = offsets // rotate
    cut = np.flatnonzero((tp[1:] != tp[:-1]) | (hours[1:] != hours[:-1]) | (chunks[1:] != chunks[:-1])) + 1
    bounds = [0, *cut.tolist(), table.num_rows]
    for a, b in itertools.pairwise(bounds):
        key = int(tp[a])
        yield Run(names[key >> 32], key & 0xFFFFFFFF, int(hours[a]), int(chunks[a]), int(offsets[a]),
                  int(offsets[b - 1]), table.slice(a, b - a))


def own(tables: Sequence[pa.Table]) -> pa.Table:
    """``tables`` as one table in buffers of its own. A slice shares its batch's buffers and
    keeps the whole batch in memory as long as it lives (``combine_chunks`` of a single chunk
    returns it as is; of several it copies)."""
    import pyarrow as pa

    return pa.concat_tables([*tables, tables[0].slice(0, 0)]).combine_chunks()


@dataclass(frozen=True)
class OpenSegment:
    topic: str
    partition: int
    start: int  # offset of its first record: the file's name
    hour: int
    chunk: int
    last: int  # offset of its last record so far
    durable: tuple[pa.Table, ...] = ()  # in staged parts already
    pending: tuple[pa.Table, ...] = ()  # held by the log only: not to be committed yet
    pending_first: int = 0  # offset of the first pending record
    pending_since: float = 0.0  # when it arrived (time.monotonic)
    loose_since: float | None = None  # when the oldest pending slice still sharing a batch came
    staged: bool = False  # whether it has parts under _staging (to clean up once final)

    @classmethod
    def begin(cls, run: Run, now: float) -> OpenSegment:
        return cls(run.topic, run.partition, run.first, run.hour, run.chunk, run.last,
                   pending=(run.table,), pending_first=run.first, pending_since=now, loose_since=now)

    def extend(self, run: Run, now: float) -> OpenSegment:
        loose = now if self.loose_since is None else self.loose_since
        if not self.pending:
            return dataclasses.replace(self, last=run.last, pending=(run.table,), pending_first=run.first,
                                       pending_since=now, loose_since=loose)
        return dataclasses.replace(self, last=run.last, pending=(*self.pending, run.table), loose_since=loose)

    def compacted(self) -> OpenSegment:
        """The segment with its pending rows copied out of their batches (see :func:`own`)."""
        return dataclasses.replace(self, pending=(own(self.pending),), loose_since=None)

    def made_durable(self, table: pa.Table) -> OpenSegment:
        """The segment once its pending rows (``table``, from :meth:`pending_table`) are in a part."""
        return dataclasses.replace(self, durable=(*self.durable, table), pending=(), loose_since=None,
                                   staged=True)

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
