"""Running a consumer-group worker: poll a micro-batch, process it durably, then commit.

A :class:`Worker` is a processor or a sink. The loop guarantees at-least-once: offsets are
committed only after ``process`` returned, i.e. after the worker made its outputs durable
(or, for a worker with the optional ``checkpoint`` method, only what it says is durable: see
:mod:`vitalstream.commits`).
A :class:`~vitalstream.errors.TransientError` from ``process`` is retried with backoff (the
same batch, so ``process`` must be safe to call again with it); the worker reports itself
unhealthy meanwhile. Invalid data never reaches here as an exception: workers dead-letter it.

Crash tests can stop the loop exactly between the durable write and the commit (see
:mod:`vitalstream.testing.faultpoint`); otherwise that hook does nothing.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from typing import Protocol, TypeVar

from . import metrics
from .commits import Commits
from .errors import TransientError
from .log.base import Consumer, Log, Record, TopicPartition
from .testing import faultpoint

logger = logging.getLogger(__name__)
T = TypeVar("T")
_TOPIC = attrgetter("topic")

#: How long a sink's batch may keep gathering (see :func:`gather`): sinks feed archives and
#: the warehouse, where half a second is nothing, and each batch costs a file or a transaction.
SINK_LINGER_S = 0.5
#: How often a lingering batch looks for more records (a full batch leaves at the next look).
LINGER_LOOKS = 4


class Worker(Protocol):
    """What the loop drives. ``group`` is the consumer group; ``topics`` what it reads."""

    group: str
    topics: Sequence[str]

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """The owned partitions changed (full new set): rebuild or drop per-partition state."""

    def process(self, records: list[Record]) -> None:
        """Handle one batch; return only once its outputs are durable."""

    def close(self) -> None: ...

    # Optional: ``checkpoint(force=False) -> Mapping[TopicPartition, int]`` for a worker that
    # keeps records past ``process`` (see :mod:`vitalstream.commits`).


@dataclass
class Health:
    """Shared, cheap-to-read status of one worker (for progress lines and /readyz)."""

    healthy: bool = True
    records: int = 0
    batches: int = 0
    last_error: str = ""
    last_commit: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def retry_transient(fn: Callable[[], T], stop: threading.Event, health: Health | None = None,
                    what: str = "operation", max_delay: float = 10.0) -> T:
    """Call ``fn`` until it does not raise TransientError (or ``stop`` is set: then re-raise).

    Logs once per backoff step, not once per try, so an outage does not flood the logs.
    """
    delay = 0.1
    while True:
        try:
            result = fn()
            if health is not None and not health.healthy:
                health.healthy = True
                logger.warning("%s recovered", what)
            return result
        except TransientError as exc:
            if health is not None:
                health.healthy = False
                health.last_error = str(exc)
            if stop.is_set():
                raise
            logger.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, max_delay)


# The cyclic GC's young generation is collected every GC_THRESHOLD[0] net container
# allocations (CPython's default: 700). A worker allocates a few structs per record and keeps
# patients' state and dedup memory alive, so at the default it runs a young collection every
# ~100 records (~1,900 per 200k events; 0.45 CPU-us per event in the processor). 5,000 cuts
# them 6-fold and their cost by ~40 %, with the measured processor ~0.5-1 CPU-us per event
# cheaper (better cache use). Process-wide: set once by the first worker loop of a process.
GC_THRESHOLD = (5_000, 20, 10)


def tune_gc() -> None:
    """Raise the cyclic GC's thresholds to :data:`GC_THRESHOLD` (never lowers them)."""
    current = gc.get_threshold()
    if current[0] and current[0] < GC_THRESHOLD[0]:  # 0: the GC is disabled; leave it so
        gc.set_threshold(*GC_THRESHOLD)


def run_worker(
    log: Log,
    worker: Worker,
    stop: threading.Event,
    *,
    max_records: int = 5000,
    max_wait_s: float = 0.1,
    health: Health | None = None,
    until_idle: bool = False,
    linger_s: float = 0.0,
    max_batch_s: float = 0.0,
) -> Health:
    """Drive ``worker`` until ``stop`` is set (or, with ``until_idle``, until a poll is empty
    and nothing is left to read). Always leaves the group and closes the worker.

    ``max_wait_s`` bounds a poll that finds nothing (then the loop checks ``stop`` and the
    assignment); ``linger_s`` is how long a batch may keep gathering after its first records
    (see :func:`gather`); ``max_batch_s`` > 0 caps a batch at what the worker processes in that
    time (see :class:`BatchSizer`). Catching up (``until_idle``) neither lingers nor caps."""
    health = health or Health()
    tune_gc()
    metrics.start()
    sizer = BatchSizer(max_records, 0.0 if until_idle else max_batch_s)
    consumer = retry_transient(
        lambda: log.consumer(worker.group, worker.topics), stop, health, f"{worker.group}: join group"
    )
    owned: set[TopicPartition] | None = None
    commits = Commits(worker, consumer, stop, health, retry_transient)
    try:
        while not stop.is_set():
            limit = sizer.limit()
            records = gather(consumer, limit, max_wait_s, 0.0 if until_idle else linger_s, sizer.enough)
            current = set(consumer.assignment())
            if current != owned:
                retry_transient(partial(worker.assigned, current), stop, health, f"{worker.group}: assign")
                owned = current
                faultpoint.assigned(worker.group, current)
            if not records:
                commits.idle(force=until_idle)
                if until_idle and _caught_up(log, worker):
                    break
                continue
            started = time.monotonic()
            retry_transient(partial(worker.process, records), stop, health, f"{worker.group}: process")
            sizer.took(len(records), time.monotonic() - started, full=2 * len(records) >= limit)
            commits.batch(records)
            metrics.batch(worker.group, map(_TOPIC, records), time.monotonic() - started)
            health.records += len(records)
            health.batches += 1
            health.last_commit = time.time()
        commits.stopping()
    finally:
        consumer.close()
        worker.close()
    return health


class BatchSizer:
    """How many records the next batch may take. Records wait for the batch ahead of them, so
    at a high rate a batch of ``max_records`` (hundreds of ms of work) is what an alert's
    latency is made of; so while the worker keeps up a batch is capped at about
    ``max_batch_s`` of work (time per record: a moving average of the recent batches', so a
    slow machine or a busy core shrinks it; never below ``floor`` records). A batch that comes
    back (half) full says the worker is behind (a poll may return less than it may take while
    more is waiting, the embedded log shares the limit between its partitions): the cap then
    doubles with each such batch, up to
    ``max_records``, so catching up runs at full-batch throughput and only the records at the
    front of a backlog get the short batches. ``max_batch_s`` = 0: always ``max_records``."""

    def __init__(self, max_records: int, max_batch_s: float, floor: int = 200) -> None:
        self.max_records = max_records
        self.max_batch_s = max_batch_s
        self.floor = min(floor, max_records)
        self.per_record_s = 0.0  # moving average; 0 until the first batch was timed
        self.behind = 1  # doubles with every full batch in a row
        # a poll finding this many records needs no lingering for more (see gather)
        self.enough = self.floor if max_batch_s > 0 else None

    def limit(self) -> int:
        if self.max_batch_s <= 0 or self.per_record_s <= 0:
            return self.max_records
        cap = max(self.floor, round(self.max_batch_s / self.per_record_s))
        return min(self.max_records, cap * self.behind)

    def took(self, records: int, seconds: float, full: bool) -> None:
        if self.max_batch_s <= 0 or records <= 0:
            return
        self.behind = min(self.behind * 2, self.max_records) if full else 1
        # A batch of a handful of records (its fixed costs) or one retried after a transient
        # failure (backoff sleeps) says little about the time per record: weigh by size.
        each = seconds / records
        weight = min(1.0, records / max(self.floor, 1)) * 0.3
        self.per_record_s = each if self.per_record_s <= 0 else self.per_record_s + weight * (each - self.per_record_s)


def gather(consumer: Consumer, max_records: int, max_wait_s: float, linger_s: float,
           enough: int | None = None) -> list[Record]:
    """One micro-batch: what a poll returns, then whatever else arrives within ``linger_s``
    (up to ``max_records``, looked for :data:`LINGER_LOOKS` times). At a ward's rate records
    come a few at a time, and every batch has fixed costs (a transaction, a commit, a file, a
    flush); waiting a few milliseconds turns many tiny batches into one. A full batch never
    waits, nor does a first poll that found ``enough`` records (at a high rate the fixed costs
    are shared already, and lingering would only add its time to every record's latency)."""
    records = consumer.poll(max_records=max_records, timeout=max_wait_s)
    if not records or linger_s <= 0 or len(records) >= min(max_records, enough or max_records):
        return records
    owned = consumer.assignment()
    deadline = time.monotonic() + linger_s
    # Look a few times, not at every write: at a ward's rate a poll that returns as soon as
    # anything arrived finds a handful of records and still costs a fetch per partition.
    step = linger_s / LINGER_LOOKS
    while len(records) < max_records:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(step, left))
        records += consumer.poll(max_records=max_records - len(records), timeout=0)
    now = consumer.assignment()
    if now != owned:  # a partition revoked meanwhile: its new owner reads it from the commit
        keep = set(now)
        records = [r for r in records if (r.topic, r.partition) in keep]
    return records


def _caught_up(log: Log, worker: Worker) -> bool:
    return all(g.lag <= 0 for g in log.group_lag(worker.group, list(worker.topics)))


class WorkerThreads:
    """Several workers on threads of one process (the sinks process runs the lake, landing and
    warehouse sinks this way). If one fails with an error the loop does not retry, the others
    are stopped too and :meth:`join` raises that error, so the process exits non-zero and
    ``vitalstream up`` notices, instead of living on with a dead sink whose lag only grows."""

    def __init__(self, log: Log, workers: Sequence[Worker], stop: threading.Event, *,
                 health: dict[str, Health] | None = None, **loop: float | int) -> None:
        self.stop = stop
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self._run, args=(log, w, (health or {}).get(w.group), loop), name=w.group)
            for w in workers
        ]

    def _run(self, log: Log, worker: Worker, health: Health | None, loop: dict[str, float | int]) -> None:
        try:
            run_worker(log, worker, self.stop, health=health, **loop)  # type: ignore[arg-type]
        except BaseException as exc:
            logger.error("%s stopped by %s: %s", worker.group, type(exc).__name__, exc)
            self.errors.append(exc)
            self.stop.set()

    def start(self) -> WorkerThreads:
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        for t in self.threads:
            t.join(timeout)
        if self.errors:
            raise self.errors[0]
