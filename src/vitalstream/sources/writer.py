"""Group commit for the HTTP edge: many requests' records, one ``flush()``.

Requests ``await writer.write(records)``; the call returns only after ``producer.flush()``
returned — the moment the records are acknowledged (log contract). While one flush runs (in
a dedicated thread, so the event loop keeps accepting requests), new records queue up and the
next flush takes them all: N concurrent single-event requests cost about one flush, not N.
The producer is touched by the event loop (``send``) and by the flush thread (``flush``),
never by both at once.

If a flush fails every request in that group gets the error (HTTP answers 503) and the
producer is replaced: the failed records are *dropped* from the buffer, because their
senders were told they were not stored and will retry; keeping them would store them twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence

from ..log.base import Log, Producer
from .ingest import OutRecord

logger = logging.getLogger(__name__)


class GroupWriter:
    def __init__(self, log: Log) -> None:
        self.log = log
        self._producer: Producer | None = None
        self._pending: list[tuple[Sequence[OutRecord], asyncio.Future[None]]] = []
        self._running = False
        self._drainer: asyncio.Task[None] | None = None  # held: the loop keeps only a weak reference
        self._closed = False
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="log-flush")
        self.flushes = 0
        self.records_written = 0

    async def write(self, records: Sequence[OutRecord]) -> None:
        """Return once ``records`` are durable in the log (raise what the flush raised)."""
        if self._closed:
            raise RuntimeError("log writer is closed")
        if not records:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._pending.append((records, fut))
        if not self._running:
            self._running = True
            self._drainer = loop.create_task(self._drain())
        await fut

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                group, self._pending = self._pending, []
                try:
                    producer = self._producer
                    if producer is None:
                        producer = self._producer = self.log.producer()
                    send = producer.send
                    n = 0
                    for records, _ in group:
                        n += len(records)
                        for topic, value, key, headers in records:
                            send(topic, value, key=key, headers=headers)
                    await loop.run_in_executor(self._pool, producer.flush)
                except BaseException as exc:  # every waiter must hear about it
                    self._producer = None  # drop the failed buffer (see module docstring)
                    logger.warning("log write failed for %d request(s): %s", len(group),
                                   type(exc).__name__)
                    for _, fut in group:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                self.flushes += 1
                self.records_written += n
                for _, fut in group:
                    if not fut.done():
                        fut.set_result(None)
        finally:
            self._running = False

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True)
        if self._producer is not None:
            try:
                self._producer.close()
            except Exception:  # closing after an outage; nothing is acknowledged
                logger.debug("producer close failed", exc_info=True)
            self._producer = None
