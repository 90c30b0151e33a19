"""Reference tables materialised from their topics, from the earliest offset.

The smartwatch-vitals system this replaces created its metadata table at the *latest* offset, so metadata sent before the table
existed never joined. Here every table is read from the beginning of its (compacted) topic on
start-up, through a private consumer that never commits, and kept current before each batch.
The latest version per key wins. Invalid reference records are skipped here: the processor's
own group dead-letters them once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import LogUnavailable
from ..events import InvalidEvent, decode
from ..log import drained, end_offsets, private_group
from ..log.base import Log

logger = logging.getLogger(__name__)


class ReferenceTables:
    """``tables[topic][key] -> decoded struct``, for every partition of each topic."""

    def __init__(self, log: Log, topics: Sequence[str],
                 on_change: Callable[[str, str, Any], None] | None = None) -> None:
        self.topics = list(topics)
        self.tables: dict[str, dict[str, Any]] = {t: {} for t in self.topics}
        self._on_change = on_change
        # A private group: it reads everything and commits nothing, so every start re-reads.
        self._log = log
        self._consumer = log.consumer(private_group("reference"), self.topics)
        self._consumer.seek_to_beginning()

    def bootstrap(self, timeout: float = 60.0) -> int:
        """Read everything the topics hold now (not just what a first poll returns: on Kafka a
        new group may take a moment to join). Raises LogUnavailable after ``timeout``."""
        pending = end_offsets(self._log, self.topics)
        deadline = time.monotonic() + timeout
        n = 0
        while pending:
            got = self._poll(0.5)
            n += len(got)
            drained(pending, got)
            if pending and not got and time.monotonic() > deadline:
                raise LogUnavailable(f"reference data {sorted(pending)} not read to the end in {timeout:g}s")
        return n

    def refresh(self, timeout: float = 0.0) -> int:
        """Apply everything new that is ready now; returns how many records were read."""
        n = 0
        while records := self._poll(timeout):
            n += len(records)
            timeout = 0.0
        return n

    def _poll(self, timeout: float) -> list[Any]:
        records = self._consumer.poll(max_records=10_000, timeout=timeout)
        if records:
            for r in records:
                try:
                    event = decode(r.topic, r.value)
                except InvalidEvent:
                    continue
                key = r.key.decode("utf-8", "replace") if r.key is not None else ""
                self.tables[r.topic][key] = event
                if self._on_change is not None:
                    self._on_change(r.topic, key, event)
        return records

    def get(self, topic: str, key: str) -> Any:
        return self.tables[topic].get(key)

    def close(self) -> None:
        self._consumer.close()
