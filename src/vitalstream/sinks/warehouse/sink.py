"""The consumer group that loads every catalogued topic into the warehouse.

Per batch: each record becomes the document(s) of the table(s) it feeds (:mod:`.documents`),
each table's documents become one Arrow table (:mod:`.columns`), and the backend loads them
all in one transaction (:meth:`.base.Warehouse.load`). The loop commits the batch's offsets
only after that transaction committed; a replay after a crash changes nothing, because every
load is idempotent on the table's key.

Driven by :func:`~vitalstream.runtime.run_worker`, the sink decodes a batch on the loop's
thread and loads it on a :class:`.loader.Loader` thread while the loop polls and decodes the
next one; ``checkpoint`` tells the loop the offsets of the batches whose transaction committed
(:mod:`vitalstream.commits`). Called directly, :meth:`process` loads before it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import groupby
from operator import attrgetter
from typing import TYPE_CHECKING

from ...log.base import Record, TopicPartition
from ..base import Sink
from . import schema as S
from .base import BadBatch, Warehouse
from .documents import document, mention_docs
from .loader import Loader

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

WAREHOUSE_GROUP = "vitalstream-warehouse"
_TOPIC, _VALUE = attrgetter("topic"), attrgetter("value")


class WarehouseSink(Sink):
    """Loads every catalogue topic that has a table into ``warehouse`` (idempotent on the key)."""

    def __init__(self, warehouse: Warehouse, topics: Sequence[str] = S.TOPICS,
                 group: str = WAREHOUSE_GROUP, dead_letter_payloads: bool = False) -> None:
        self.warehouse = warehouse
        self.dead_letter_payloads = dead_letter_payloads  # PHI: off unless configured
        self.topics = tuple(topics)
        self.group = group
        self._skipped = 0  # left out while decoding (the loop's thread)
        self._refused = 0  # left out by the database (the loader's thread)
        self._migrated = False
        self._loader: Loader | None = None  # set by the first checkpoint(): loads overlap polls

    @property
    def skipped(self) -> int:
        """Records left out: no document, a document that does not convert, a row refused."""
        return self._skipped + self._refused

    def write(self, records: list[Record]) -> None:
        from .columns import tables_to_arrow

        if not self._migrated:
            self.warehouse.migrate()
            self._migrated = True
        tables, left_out = tables_to_arrow(self._documents(records))
        self._skipped += left_out
        batch = {name: data for name, data in tables.items() if data.num_rows} or None
        if self._loader is not None:
            # in offset order within a partition: the last record of each is its highest offset
            self._loader.put(batch, {(r.topic, r.partition): r.offset + 1 for r in records})
        elif batch:
            self._load(batch)

    def checkpoint(self, force: bool = False) -> dict[TopicPartition, int]:
        """Per partition, the offset before which every record is loaded (with ``force``, once
        everything handed over is). The first call tells the sink that its driver commits only
        these offsets, so from then on :meth:`process` hands batches to the loader thread and
        returns (see :mod:`vitalstream.commits`). A failure of the loader is raised here or by
        the next :meth:`process` (see :mod:`.loader`)."""
        if self._loader is None:
            self._loader = Loader(self._load, f"{self.group}-loader")
        return self._loader.durable(drain=force)

    def assigned(self, partitions: set[TopicPartition]) -> None:
        # What is loaded stays committable only for partitions still owned: finish loading what
        # was handed over first, so a late batch cannot bring back a partition let go of.
        if self._loader is not None:
            self._loader.durable(drain=True)
            self._loader.forget(partitions)

    def _load(self, batch: dict[str, pa.Table]) -> None:
        try:
            self.warehouse.load(batch)
        except BadBatch as exc:
            # A value the database refuses (Arrow accepted it): find it, leave it out, load the rest.
            logger.warning("warehouse rejected a batch (%s); loading it table by table",
                           type(exc.__cause__).__name__ if exc.__cause__ else "error")
            for name, data in batch.items():
                self._isolate(name, data)

    def _documents(self, records: list[Record]) -> dict[str, list[bytes]]:
        docs: dict[str, list[bytes]] = {}
        fed_by = S.FED_BY
        # A poll returns each partition's records together: take them run by run, and a run of a
        # table whose document is the record's value (vitals, alerts, scores) in one C call.
        for topic, run in groupby(records, _TOPIC):
            tables = fed_by.get(topic, ())
            if len(tables) == 1 and tables[0].prepare == "raw":
                values = list(map(_VALUE, run))
                if None in values:  # a tombstone has no document
                    kept = [v for v in values if v is not None]
                    self._skipped += len(values) - len(kept)
                    values = kept
                docs.setdefault(tables[0].name, []).extend(values)
                continue
            for r in run:
                doc: bytes | None = None
                for table in tables:
                    if table.prepare in ("problems", "medications"):  # one row per mention in a note
                        docs.setdefault(table.name, []).extend(mention_docs(r, table.prepare))
                        continue
                    if doc is None:  # a reference record: one document for its current row and its history
                        doc = document(table, r, self.dead_letter_payloads)
                        if doc is None:
                            self._skipped += 1
                            break
                    docs.setdefault(table.name, []).append(doc)
        return docs

    def _isolate(self, name: str, data: pa.Table) -> None:
        """Load ``data`` in halves until the rows the database refuses are single; skip those."""
        try:
            self.warehouse.load({name: data})
        except BadBatch:
            if data.num_rows == 1:
                self._refused += 1
                logger.warning("%s: left out 1 row the database refuses", name)
                return
            half = data.num_rows // 2
            self._isolate(name, data.slice(0, half))
            self._isolate(name, data.slice(half))

    def close(self) -> None:
        try:
            if self._loader is not None:
                self._loader.close()
        finally:
            self.warehouse.close()
