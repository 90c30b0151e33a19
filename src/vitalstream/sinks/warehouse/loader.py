"""Loading one batch in the background while the worker polls and decodes the next.

A warehouse transaction mostly runs outside Python (DuckDB and psycopg release the GIL; a
PostgreSQL server works on its own core), so the sink hands each decoded batch to one loader
thread and goes back to the log. The loop commits only what :meth:`Loader.durable` says,
through the sink's ``checkpoint`` (:mod:`vitalstream.commits`): the offsets of batches whose
transaction committed, in order, never one of a batch still waiting or loading.

At most one batch loads and one waits (:data:`WAITING`): the next hand-off blocks until the
loader took the waiting one, so memory stays bounded and a slow database makes the group lag,
as before. A failure of the loader is raised on the worker's thread by its next call
(:meth:`put`, :meth:`durable`), and the failed batch stays at the head of the queue:

* a :class:`~vitalstream.errors.TransientError` (the database is down, locked): that call
  raises it, the loop backs off and calls again, and that next call lets the loader try the
  same batch again and waits for the outcome (so the worker is unhealthy until a retry
  succeeded, as when it loaded on its own thread; nothing is skipped);
* anything else is raised by every later call: the loop stops, nothing more is committed.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ...errors import TransientError
from ...log.base import TopicPartition

logger = logging.getLogger(__name__)

WAITING = 1  # batches handed over while one loads
_LOOK_S = 1.0  # a wait checks that the loader thread still runs this often
Offsets = dict[TopicPartition, int]


class LoaderDied(RuntimeError):
    """The loader thread ended without saying why (cannot happen unless the interpreter exits)."""


class Loader:
    """Runs ``load(item)`` for each :meth:`put` item, in order, on one thread named ``name``."""

    def __init__(self, load: Callable[[Any], None], name: str) -> None:
        self._load = load
        self._name = name
        self._cond = threading.Condition()
        self._queue: deque[tuple[Any, Offsets]] = deque()  # the head is loading
        self._done: Offsets = {}  # per partition: every record before it is loaded
        self._failure: BaseException | None = None
        self._retrying = False  # the worker saw the failure: the head is being tried again
        self._closing = False
        self._thread: threading.Thread | None = None

    # -- the worker's side ------------------------------------------------------------------
    def put(self, item: Any, offsets: Offsets) -> None:
        """Queue ``item``; once loaded, ``offsets`` (per partition, one past its last record)
        become durable. Blocks while a batch loads and another waits."""
        with self._cond:
            self._check()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            while len(self._queue) > WAITING:
                self._wait()
                self._check()
            self._queue.append((item, offsets))
            self._cond.notify_all()

    def durable(self, drain: bool = False) -> Offsets:
        """Per partition, the offset before which every record is loaded (``drain``: after
        everything queued is)."""
        with self._cond:
            self._check()
            while drain and self._queue:
                self._wait()
                self._check()
            return dict(self._done)

    def forget(self, keep: set[TopicPartition]) -> None:
        """Drop the offsets of partitions not in ``keep`` (call after ``durable(drain=True)``)."""
        with self._cond:
            self._done = {tp: o for tp, o in self._done.items() if tp in keep}

    def close(self, timeout: float = 60.0) -> None:
        """Load what is queued (unless the loader failed) and end the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("%s: still loading after %.0f s; its batches are not committed and "
                               "are read again at the next start", self._name, timeout)

    def _check(self) -> None:
        """Raise the loader's failure (see the module doc); with the lock held."""
        while self._retrying and self._failure is None:
            self._wait()
        exc = self._failure
        if exc is None:
            return
        if isinstance(exc, TransientError):
            self._failure = None
            self._retrying = True  # the loader tries the head again; the next call waits for it
            self._cond.notify_all()
        raise exc

    def _wait(self) -> None:
        self._cond.wait(_LOOK_S)
        if self._failure is None and (self._thread is None or not self._thread.is_alive()):
            self._failure = LoaderDied(f"{self._name}: the loader thread ended")

    # -- the loader's thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                item, offsets = self._queue[0]
            try:
                if item is not None:
                    self._load(item)
            except BaseException as exc:  # every failure is the worker's to raise
                with self._cond:
                    self._failure = exc
                    self._retrying = False
                    self._cond.notify_all()
                    if not isinstance(exc, TransientError):
                        return
                    while not self._retrying and not self._closing:
                        self._cond.wait()
                    if not self._retrying:  # closing: the batch stays uncommitted
                        return
                continue
            with self._cond:
                self._queue.popleft()
                self._done.update(offsets)
                self._retrying = False
                self._cond.notify_all()
