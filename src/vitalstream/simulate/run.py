"""Running a simulator as a source: paced traffic into the log or to an edge.

    sent = SimulatorSource(settings, "vitals", count=1000).send(threading.Event())

``to="log"`` writes straight to the configured log (flushing every batch); any other value
is a target URL (``http://…``, ``mqtt://…``, see :mod:`vitalstream.sources.targets`) whose
far end acknowledges each batch. What ``vitalstream simulate`` and ``vitalstream up`` run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from .. import topics as T
from ..config import Settings
from ..sources.base import Source
from . import Outgoing


class SimulatorSource(Source):
    """One simulator profile; options default to the ``[simulate]`` settings."""

    name = "simulate"

    def __init__(self, settings: Settings, profile: str, *, patients: int | None = None,
                 rate: float | None = None, count: int | None = None, seed: int | None = None,
                 to: str = "log") -> None:
        self.settings = settings
        self.profile = profile
        sim = settings.simulate
        self.patients = patients or sim.patients
        self.rate = sim.rate if rate is None else rate
        self.seed = sim.seed if seed is None else seed
        self.count = count
        self.to = to
        self.sent = 0

    def run(self, stop: threading.Event) -> None:
        self.send(stop)

    def send(self, stop: threading.Event) -> int:
        """Send until ``count`` events went out or ``stop`` is set; returns events sent."""
        from .live import batches

        gen = batches(self.profile, patients=self.patients, seed=self.seed, rate=self.rate,
                      count=self.count)
        if self.to == "log":
            self._to_log(gen, stop)
        else:
            self._to_target(gen, stop)
        return self.sent

    def _to_log(self, gen: Iterator[list[Outgoing]], stop: threading.Event) -> None:
        from ..log import open_log

        s = self.settings
        with open_log(s.log_url) as log:
            T.ensure_all(log, s.partitions, s.retention_ms, s.replication_factor)
            with log.producer() as p:
                for batch in gen:
                    for m in batch:
                        p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
                    p.flush()
                    self.sent += len(batch)
                    if stop.is_set():
                        break

    def _to_target(self, gen: Iterator[list[Outgoing]], stop: threading.Event) -> None:
        from ..sources.targets import open_target

        target = open_target(self.to, self.settings)
        try:
            for batch in gen:
                if batch:
                    target.send(batch)
                self.sent += len(batch)
                if stop.is_set():
                    break
        finally:
            target.close()
