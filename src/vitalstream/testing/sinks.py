"""Sink doubles: one that keeps what it is given, one that fails when told to.

Both are real :class:`~vitalstream.sinks.base.Sink` objects, so
:func:`~vitalstream.runtime.run_worker` drives them like the lake or the warehouse::

    sink = FaultySink(ListSink([T.HEART_RATE]), Faults(at=2))   # 2nd batch: SinkUnavailable
    run_worker(log, sink, stop, until_idle=True)
    assert sink.faults.failed == 1 and len(sink.inner.records) == n   # retried, not skipped
"""

from __future__ import annotations

from collections.abc import Sequence

from ..log.base import Record, TopicPartition
from ..sinks.base import Sink, SinkUnavailable
from .faults import Faults


class ListSink(Sink):
    """Keeps every batch in memory: ``batches`` (one list per write) and ``records``.
    ``owned`` is the latest set of assigned partitions; ``closed`` says whether it was closed."""

    def __init__(self, topics: Sequence[str], group: str = "vitalstream-testing-sink") -> None:
        self.topics = tuple(topics)
        self.group = group
        self.batches: list[list[Record]] = []
        self.owned: set[TopicPartition] = set()
        self.closed = False

    @property
    def records(self) -> list[Record]:
        return [r for batch in self.batches for r in batch]

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self.owned = set(partitions)

    def write(self, records: list[Record]) -> None:
        self.batches.append(list(records))

    def close(self) -> None:
        self.closed = True


class FaultySink(Sink):
    """Wraps a sink; a batch fails *before* reaching it when ``faults`` says so, raising
    :class:`SinkUnavailable` (transient: the loop retries the same batch) unless the schedule
    names another error."""

    def __init__(self, inner: Sink, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults
        self.group = inner.group
        self.topics = inner.topics

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self.inner.assigned(partitions)

    def process(self, records: list[Record]) -> None:
        if records:
            self.faults.check(len(records), SinkUnavailable)
        self.inner.process(records)

    def write(self, records: list[Record]) -> None:
        self.faults.check(len(records), SinkUnavailable)
        self.inner.write(records)

    def close(self) -> None:
        self.inner.close()
