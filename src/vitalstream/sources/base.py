"""The contract every source (ingestion edge) keeps. Read this before writing one.

A **source** brings events from outside (an HTTP client, an MQTT broker, a file, a
simulator) into the log. For every input it:

1. validates and routes it with :mod:`vitalstream.sources.ingest` (typed decoding by
   :func:`vitalstream.events.decode`, key from :func:`vitalstream.events.key_of`);
2. sends an accepted event to its raw topic and a rejected one to the dead letters (never
   drops it, never raises it);
3. acknowledges it to whoever sent it (HTTP 200/422, MQTT PUBACK, a file checkpoint) only
   **after** ``Producer.flush()`` returned: an input counts as acknowledged once it is
   durable in the log, never before. If the source dies in between, the sender resends
   (at-least-once); the processor drops the duplicate by ``event_id``.

:meth:`Source.run` blocks until ``stop`` is set or the input is exhausted. When ``stop`` is
set, the source finishes the batch in flight (flush, then acknowledge), closes its producer
and returns; anything not yet acknowledged is the sender's to resend. A source keeps no
state that must survive a restart except what it acknowledges with (a file checkpoint, the
broker's persistent session).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar


class Source(ABC):
    """One ingestion edge; ``name`` identifies it in logs and dead-letter stages."""

    name: ClassVar[str]

    @abstractmethod
    def run(self, stop: threading.Event) -> None:
        """Bring inputs into the log until ``stop`` is set or the input ends (see module doc)."""
