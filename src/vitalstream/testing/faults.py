"""Injected faults: a schedule of which writes fail, and a log whose flushes follow it.

A :class:`Faults` schedule counts calls from 1 and says which of them fail::

    Faults(at=3)                # the 3rd write fails once; the others succeed
    Faults(at=3, times=2)       # the 3rd and the 4th fail
    Faults(at=3, times=None)    # every write from the 3rd on fails: a crash, or an outage
                                # that never ends (nothing after it becomes durable)
    Faults(at=None)             # never, except inside ``with faults.outage():``

The error is transient by default (the kind of the wrapped component: ``LogUnavailable`` for
a log, ``SinkUnavailable`` for a sink), so the retry paths run; pass ``error=TerminalError``
(or any exception class) to test what must *not* be retried. ``calls``, ``failed`` and
``refused`` (records in the failed writes) let a test wait for a fault to have happened
instead of sleeping.

:class:`FaultyLog` wraps a real log: everything passes through, except that each producer's
``flush`` first asks the schedule. A failed flush leaves the buffer as a real producer would
(nothing of it is durable; a retry on the same producer may still store it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Literal

from ..errors import LogUnavailable
from ..log.base import Consumer, GroupLag, Headers, Log, Producer, TopicInfo, TopicSpec


class Faults:
    """Which calls fail (see the module docstring). Thread-safe: a component's own threads
    call :meth:`check` while the test reads the counters."""

    def __init__(self, at: int | None = 1, times: int | None = 1,
                 error: type[BaseException] | None = None) -> None:
        if at is not None and at < 1:
            raise ValueError("calls are counted from 1")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1, or None for every call from `at` on")
        self.at = at
        self.times = times
        self.error = error
        self.calls = 0
        self.failed = 0
        self.refused = 0
        self._down = 0
        self._lock = threading.Lock()

    def _due(self, n: int) -> bool:
        if self._down:
            return True
        if self.at is None or n < self.at:
            return False
        return self.times is None or n < self.at + self.times

    def check(self, records: int = 0, kind: type[BaseException] = LogUnavailable) -> None:
        """Count one write of ``records`` records; raise if the schedule says this one fails."""
        with self._lock:
            self.calls += 1
            n = self.calls
            if not self._due(n):
                return
            self.failed += 1
            self.refused += records
        raise (self.error or kind)(f"injected fault (write {n})")

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Every write inside the block fails, whatever the schedule says."""
        with self._lock:
            self._down += 1
        try:
            yield
        finally:
            with self._lock:
                self._down -= 1


class FaultyProducer(Producer):
    """A real producer whose ``flush`` fails when the schedule says so."""

    def __init__(self, inner: Producer, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults
        self._buffered = 0

    def send(self, topic: str, value: bytes, key: bytes | None = None, headers: Headers = (),
             timestamp_ms: int | None = None, partition: int | None = None) -> None:
        self.inner.send(topic, value, key=key, headers=headers, timestamp_ms=timestamp_ms,
                        partition=partition)
        self._buffered += 1

    def flush(self, timeout: float | None = None) -> None:
        self.faults.check(self._buffered, LogUnavailable)
        self.inner.flush(timeout)
        self._buffered = 0

    def close(self) -> None:
        # Closing flushes. If that flush fails the inner producer is abandoned with its buffer,
        # as a crashed process would leave it: closing it would store the records behind the
        # schedule's back.
        self.flush()
        self.inner.close()


class FaultyLog(Log):
    """A real log (any backend) whose producers' flushes follow ``faults``.

    >>> from vitalstream.testing import Faults, FaultyLog, memory_log
    >>> with memory_log() as real:
    ...     log = FaultyLog(real, Faults(at=1))
    ...     p = log.producer()
    ...     p.flush()
    Traceback (most recent call last):
    ...
    vitalstream.errors.LogUnavailable: injected fault (write 1)
    """

    def __init__(self, inner: Log, faults: Faults, *, close_inner: bool = True) -> None:
        self.inner = inner
        self.faults = faults
        self.url = inner.url
        self._close_inner = close_inner

    def producer(self) -> Producer:
        return FaultyProducer(self.inner.producer(), self.faults)

    def create_topic(self, spec: TopicSpec, exist_ok: bool = True) -> None:
        self.inner.create_topic(spec, exist_ok)

    def delete_topic(self, name: str) -> None:
        self.inner.delete_topic(name)

    def purge_topic(self, name: str) -> None:
        self.inner.purge_topic(name)

    def list_topics(self) -> list[str]:
        return self.inner.list_topics()

    def describe_topic(self, name: str) -> TopicInfo:
        return self.inner.describe_topic(name)

    def consumer(self, group: str, topics: Sequence[str],
                 auto_offset_reset: Literal["earliest", "latest"] = "earliest",
                 session_timeout: float = 10.0) -> Consumer:
        return self.inner.consumer(group, topics, auto_offset_reset, session_timeout)

    def group_lag(self, group: str, topics: Sequence[str] | None = None) -> list[GroupLag]:
        return self.inner.group_lag(group, topics)

    def list_groups(self) -> list[str]:
        return self.inner.list_groups()

    def enforce_retention(self, now_ms: int | None = None) -> int:
        return self.inner.enforce_retention(now_ms)

    def close(self) -> None:
        if self._close_inner:
            self.inner.close()


__all__ = ["Faults", "FaultyLog", "FaultyProducer"]
