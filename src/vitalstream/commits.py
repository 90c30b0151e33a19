"""What the worker loop commits, and when: everything polled, or what a buffering worker made durable.

By default :func:`~vitalstream.runtime.run_worker` commits everything a batch held once
``process`` returned. A worker may instead keep records in memory after ``process`` returns
(the lake does, to write files of thousands of rows instead of one small file per poll), with
the log as their write-ahead log: the loop must then commit only what the worker made durable,
so a crash replays the rest. Such a worker has the optional method::

    def checkpoint(self, force: bool = False) -> Mapping[TopicPartition, int]:
        '''Write what is due (everything with ``force``); return, per partition, the offset
        to commit: every record before it is durable.'''

The loop calls it once before its first poll, then after every poll, with or without records
(so a worker's time bound holds when traffic stops), and with ``force`` when ``until_idle``
finds nothing more to read and when it stops (Ctrl-C, SIGTERM), so what is buffered is
written and committed before the process exits. A worker must stay durable-on-return for drivers that never call ``checkpoint`` (a
test calling ``process``, a wrapper that does not forward it): the first call is what allows
it to buffer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from .errors import TransientError
from .log.base import Consumer, Record, TopicPartition
from .testing import faultpoint

if TYPE_CHECKING:
    from .runtime import Health

logger = logging.getLogger(__name__)
Retry = Callable[..., Any]  # runtime.retry_transient


class Commits:
    """Commits for one worker on one consumer."""

    def __init__(self, worker: Any, consumer: Consumer, stop: threading.Event, health: Health,
                 retry: Retry) -> None:
        self.group: str = worker.group
        self.consumer = consumer
        self.stop = stop
        self.health = health
        self.retry = retry
        self.checkpoint: Callable[[bool], Mapping[TopicPartition, int]] | None = getattr(worker, "checkpoint", None)
        self.committed: dict[TopicPartition, int] = {}
        # only for the crash tests' fault point: which records a commit covers
        self.uncommitted: list[Record] = []
        if self.checkpoint is not None:  # before the first batch: it may be buffered already
            retry(partial(self.checkpoint, False), stop, health, f"{self.group}: checkpoint")

    def batch(self, records: list[Record]) -> None:
        """After ``process(records)`` returned."""
        if self.checkpoint is None:
            faultpoint.before_commit(self.group, records, self.stop)
            self.retry(self.consumer.commit, self.stop, self.health, f"{self.group}: commit")
            return
        if faultpoint.active():
            self.uncommitted.extend(records)
        self._commit_durable(force=False)

    def idle(self, force: bool) -> None:
        """After an empty poll (``force``: nothing more to read and the loop may stop)."""
        if self.checkpoint is not None:
            self._commit_durable(force)

    def stopping(self) -> None:
        """The loop stops: write and commit what is buffered. A failure here loses nothing
        (the records are not committed, a restart reads them again), so it is only logged."""
        if self.checkpoint is None:
            return
        try:
            self._commit_durable(force=True)
        except TransientError as exc:
            logger.warning("%s: buffered records not written before stopping (%s); they are read "
                           "again from the log at the next start", self.group, exc)

    def _commit_durable(self, force: bool) -> None:
        assert self.checkpoint is not None
        offsets = self.retry(partial(self.checkpoint, force), self.stop, self.health, f"{self.group}: checkpoint")
        todo = {tp: o for tp, o in offsets.items() if self.committed.get(tp) != o}
        # a partition the worker let go of is forgotten: if it comes back, its offset is new
        self.committed = {tp: o for tp, o in self.committed.items() if tp in offsets}
        if not todo:
            return
        if faultpoint.active():
            covered = [r for r in self.uncommitted if r.offset < todo.get((r.topic, r.partition), -1)]
            self.uncommitted = [r for r in self.uncommitted if r.offset >= todo.get((r.topic, r.partition), -1)]
            if covered:
                faultpoint.before_commit(self.group, covered, self.stop)
        self.retry(partial(self.consumer.commit, todo), self.stop, self.health, f"{self.group}: commit")
        self.committed.update(todo)
        self.health.last_commit = time.time()
