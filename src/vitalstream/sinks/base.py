"""The sink contract: a consumer group that makes each batch durable before the commit.

A sink is a :class:`~vitalstream.runtime.Worker` driven by :func:`~vitalstream.runtime.run_worker`:

* ``process(records)`` receives one micro-batch (records of the sink's ``topics``, in offset
  order within each partition) and returns only once the batch is durable where it lands
  (a file written and renamed, a database transaction committed). The loop then commits the
  offsets. A crash between the write and the commit replays the batch on restart, so every
  write is idempotent: lake files are named by topic, partition and start offset with
  deterministic boundaries, warehouse rows are upserted on their key. The end state is as if
  each record landed exactly once.
* A dependency that is down (database, disk, object store) raises a
  :class:`~vitalstream.errors.TransientError` subclass; the loop retries the *same* batch with
  backoff and reports the worker unhealthy meanwhile. Nothing is skipped, and because the loop
  polls no further while it retries, a slow sink makes its group lag instead of buffering.
* All state a sink keeps in memory must be derivable from what it already wrote plus the
  records it is given: after a restart or a rebalance it rebuilds it (``assigned``).
* A sink may keep records in memory past ``process`` (to write large files) only through the
  loop's optional ``checkpoint`` hook, which makes the loop commit just what the sink says is
  durable (:mod:`vitalstream.commits`; the lake does this). Called without it, ``process`` is
  durable on return as above.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import TransientError
from ..log.base import Record, TopicPartition


class SinkUnavailable(TransientError):
    """The sink's destination cannot take writes right now (retried with backoff)."""


class LakeUnavailable(SinkUnavailable):
    """The lake's filesystem or object store failed (disk full, network, S3 down)."""


class WarehouseUnavailable(SinkUnavailable):
    """The warehouse database cannot be reached or is locked by another process."""


class Sink:
    """Base of every sink: a named consumer group over some topics with one ``write``."""

    group: str
    topics: Sequence[str]

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Owned partitions changed; drop state of the partitions no longer owned."""

    def process(self, records: list[Record]) -> None:
        if records:
            self.write(records)

    def write(self, records: list[Record]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release files and connections. Everything written is already durable."""
