"""A source that writes a fixed list of inputs into a log, the way an edge does.

Items are either ready messages (:class:`~vitalstream.simulate.Outgoing`: written to their
topic as they are, like a producer) or raw JSON bytes, which go through the same path as the
HTTP, MQTT and file edges (:func:`vitalstream.sources.ingest.check_one`): routed by shape,
validated, keyed — and rejected ones become dead letters of stage ``ingest.testing``::

    TestingSource.simulated("vitals", events=2000, patients=20).run(log)
    TestingSource([b'{"not": "an event"}']).run(log)      # one dead letter

Each ``batch_size`` items are one flush, so a fault schedule can hit one batch of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from .. import topics as T
from ..log.base import Log
from ..simulate import Outgoing

STAGE = "ingest.testing"


@dataclass(frozen=True, slots=True)
class SourceResult:
    accepted: int
    rejected: int


class TestingSource:
    """Writes ``items`` into a log on :meth:`run` (see the module docstring)."""

    __test__ = False  # not a pytest test class, whatever its name says

    def __init__(self, items: Iterable[Outgoing | bytes], batch_size: int = 5000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.items = list(items)
        self.batch_size = batch_size

    @classmethod
    def simulated(cls, profile: str, events: int, patients: int = 20, seed: int = 0,
                  batch_size: int = 5000) -> TestingSource:
        """A simulator's reference records, then its first ``events`` events."""
        from ..simulate import make

        sim = make(profile, patients=patients, seed=seed)
        return cls([*sim.reference(), *itertools.islice(sim.events(), events)], batch_size)

    def run(self, log: Log, partitions: int = T.DEFAULT_PARTITIONS) -> SourceResult:
        """Write every item (creating missing vitalstream topics with ``partitions``)."""
        from ..sources.ingest import Accepted, check_one, dead_letter_record
        from ..sources.routing import WRITABLE_TOPICS

        outgoing = {i.topic for i in self.items if isinstance(i, Outgoing)}
        T.ensure(log, sorted({*outgoing, *WRITABLE_TOPICS, T.DEAD_LETTERS}), partitions)
        accepted = rejected = 0
        with log.producer() as p:
            for start in range(0, len(self.items), self.batch_size):
                for index, item in enumerate(self.items[start:start + self.batch_size], start):
                    if isinstance(item, Outgoing):
                        p.send(item.topic, item.value, key=item.key, timestamp_ms=item.timestamp_ms)
                        accepted += 1
                        continue
                    result = check_one(index, item)
                    if type(result) is Accepted:
                        p.send(result.topic, result.value, key=result.key.encode())
                        accepted += 1
                    else:
                        topic, value, key, headers = dead_letter_record(STAGE, result)  # type: ignore[arg-type]
                        p.send(topic, value, key=key, headers=headers)
                        rejected += 1
                p.flush()
        return SourceResult(accepted, rejected)
