"""What every simulator is: deterministic, infinite, event-time ordered wire messages.

A simulator first yields its reference records (:meth:`Simulator.reference`: patient
metadata, users, activities, profiles — sent before any event so enrichment always finds
them), then an endless stream from :meth:`Simulator.events`; slice it with
``itertools.islice``. The same arguments always give the same bytes: every random choice
comes from ``random.Random`` streams derived from ``seed``, and ``start`` defaults to a fixed
instant (:data:`DEFAULT_START`) rather than the wall clock. Pass ``start=datetime.now(UTC)``
for a live demo.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import ClassVar, NamedTuple

DEFAULT_START = datetime(2024, 4, 1, tzinfo=UTC)


class Outgoing(NamedTuple):
    """One message ready for ``Producer.send``: JSON ``value`` in the seed's wire shape."""

    topic: str
    key: bytes
    value: bytes
    timestamp_ms: int


class Simulator(abc.ABC):
    profile: ClassVar[str]

    def __init__(
        self,
        patients: int = 50,
        seed: int = 0,
        start: datetime | None = None,
        interval_s: float = 1.0,
    ) -> None:
        if patients < 1:
            raise ValueError("patients must be >= 1")
        if not interval_s > 0:
            raise ValueError("interval_s must be > 0")
        start = DEFAULT_START if start is None else start
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        self.patients = patients
        self.seed = seed
        self.start = start.astimezone(UTC)
        self.interval_s = interval_s
        self.start_ms = int(self.start.timestamp() * 1000)
        self.interval_ms = max(1, round(interval_s * 1000))

    def rng(self, purpose: str) -> random.Random:
        """An independent, reproducible random stream (str seeds hash with SHA-512)."""
        return random.Random(f"{self.profile}:{self.seed}:{purpose}")

    def reference(self) -> list[Outgoing]:
        """Reference records to send before any event (none by default)."""
        return []

    @abc.abstractmethod
    def events(self) -> Iterator[Outgoing]:
        """Infinite, event-time ordered stream of wire messages."""
