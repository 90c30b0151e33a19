"""Group commit: one thread owns the producer and makes many callers' records durable at once.

Callers (HTTP requests, MQTT message batches) :meth:`LogWriter.submit` a list of records and
get a future that completes only after ``producer.flush()`` returned — the moment the records
are acknowledged (log contract). While one flush runs, new submissions queue up and the next
flush takes them all, so N concurrent single-event requests cost about one flush, not N.

If a flush fails every caller in that group gets the error (HTTP answers 503) and the
producer is replaced: the failed records are *dropped* from the buffer, because their
senders were told they were not stored and will retry; keeping them would store them twice.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable, Sequence

from ..log.base import Log, Producer
from .ingest import OutRecord

logger = logging.getLogger(__name__)

_STOP = object()


class LogWriter:
    def __init__(self, log: Log, max_group_records: int = 100_000, name: str = "log-writer") -> None:
        self.log = log
        self.max_group_records = max_group_records
        self._producer: Producer | None = None
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._closed = False
        self.flushes = 0
        self.records_written = 0
        self._thread.start()

    # -- API -----------------------------------------------------------------------------
    def submit(self, records: Sequence[OutRecord]) -> concurrent.futures.Future[None]:
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._closed:
            fut.set_exception(RuntimeError("log writer is closed"))
            return fut
        if not records:
            fut.set_result(None)
            return fut
        self._queue.put((records, fut))
        return fut

    def write(self, records: Sequence[OutRecord], timeout: float | None = None) -> None:
        """Block until ``records`` are durable (raises what the flush raised)."""
        self.submit(records).result(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._producer is not None:
            try:
                self._producer.close()
            except Exception:  # noqa: BLE001 - closing after an outage; nothing is buffered
                logger.debug("producer close failed", exc_info=True)

    # -- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is _STOP:
                break
            group = [item]
            n = len(item[0])  # type: ignore[index]
            while n < self.max_group_records:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                group.append(nxt)
                n += len(nxt[0])  # type: ignore[index]
            self._write_group(group)  # type: ignore[arg-type]
        # Drain whatever is left so no caller waits forever.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                item[1].set_exception(RuntimeError("log writer is closed"))  # type: ignore[index]

    def _write_group(
        self, group: list[tuple[Sequence[OutRecord], concurrent.futures.Future[None]]]
    ) -> None:
        try:
            producer = self._producer
            if producer is None:
                producer = self._producer = self.log.producer()
            send = producer.send
            for records, _ in group:
                for topic, value, key, headers in records:
                    send(topic, value, key=key, headers=headers)
            producer.flush()
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            self._producer = None  # drop the failed buffer (see module docstring)
            logger.warning("log write failed for %d request(s): %s", len(group), type(exc).__name__)
            for _, fut in group:
                fut.set_exception(exc)
            return
        self.flushes += 1
        self.records_written += sum(len(r) for r, _ in group)
        for _, fut in group:
            fut.set_result(None)


WriterFactory = Callable[[], LogWriter]
