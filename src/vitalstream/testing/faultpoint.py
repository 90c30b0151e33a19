"""A fault point for crash tests: stop a worker between its durable write and its commit.

A ``kill -9`` at a random moment mostly lands between batches, where it proves nothing about
at-least-once delivery. With ``VITALSTREAM__PAUSE_BEFORE_COMMIT=N:DIR`` in its environment,
every worker of a process (processor or sink, driven by :func:`vitalstream.runtime.run_worker`)
stops after making its N-th batch durable and *before* committing its offsets, writes
``DIR/batch-<group>-<pid>.json`` saying so, and waits there up to ``VITALSTREAM__PAUSE_SECONDS``
(default 120) or until the worker is told to stop — long enough for a test to see the file
and then kill the process (``kill -9``: the batch must be redone) or stop it (Ctrl-C: the
batch must still be committed) at exactly the moment that matters. With
``VITALSTREAM__PAUSE_SECONDS=0`` it only records that each worker got to its N-th batch.
Each worker also notes the partitions it owns after every change of assignment in
``DIR/owned-<group>-<pid>.json``. Without the variable the hooks cost one comparison each.

A batch file is one JSON object: ``{"group", "pid", "batch", "records", "first": {"topic:p":
offset}, "next": {"topic:p": offset}}`` — ``first`` is the batch's first offset per
partition (where the committed position must still be), ``next`` one past its last.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..log.base import Record, TopicPartition

ENV = "VITALSTREAM__PAUSE_BEFORE_COMMIT"
SECONDS_ENV = "VITALSTREAM__PAUSE_SECONDS"


def _parse(value: str | None) -> tuple[int, Path] | None:
    if not value:
        return None
    n, sep, where = value.partition(":")
    if not sep or not n.isdigit() or int(n) < 1 or not where:
        raise ValueError(f"{ENV}={value!r}: expected N:DIR with N >= 1")
    return int(n), Path(where)


def _write(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)  # the test never reads a half-written file


class _Pause:
    def __init__(self, batch: int, where: Path, seconds: float) -> None:
        self.batch = batch
        self.where = where
        self.seconds = seconds
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()

    def reached(self, group: str, records: Sequence[Record], stop: threading.Event | None) -> None:
        with self.lock:
            n = self.seen[group] = self.seen.get(group, 0) + 1
        if n != self.batch:
            return
        first: dict[str, int] = {}
        nxt: dict[str, int] = {}
        for r in records:
            tp = f"{r.topic}:{r.partition}"
            first[tp] = min(first.get(tp, r.offset), r.offset)
            nxt[tp] = max(nxt.get(tp, 0), r.offset + 1)
        _write(self.where / f"batch-{group}-{os.getpid()}.json",
               {"group": group, "pid": os.getpid(), "batch": n, "records": len(records),
                "first": first, "next": nxt})
        if stop is None:
            time.sleep(self.seconds)
        else:
            stop.wait(self.seconds)

    def owned(self, group: str, partitions: set[TopicPartition]) -> None:
        _write(self.where / f"owned-{group}-{os.getpid()}.json",
               {"group": group, "pid": os.getpid(), "partitions": sorted(partitions)})


_PAUSE = _parse(os.environ.get(ENV))
_point = _Pause(*_PAUSE, float(os.environ.get(SECONDS_ENV, "120"))) if _PAUSE else None


def active() -> bool:
    """Whether the fault point is set (a worker loop then tracks what each commit covers)."""
    return _point is not None


def before_commit(group: str, records: Sequence[Record], stop: threading.Event | None = None) -> None:
    """Called by the worker loop once a batch is durable and before its offsets commit."""
    if _point is not None:
        _point.reached(group, records, stop)


def assigned(group: str, partitions: set[TopicPartition]) -> None:
    """Called by the worker loop after the worker took a new assignment."""
    if _point is not None:
        _point.owned(group, partitions)


def paused(where: str | os.PathLike[str], group: str = "") -> list[dict]:  # type: ignore[type-arg]
    """The batch files written under ``where`` so far (for the test that set the variable),
    of every consumer group or only of ``group``."""
    return [json.loads(p.read_text()) for p in sorted(Path(where).glob(f"batch-{group}*.json"))]


def owned(where: str | os.PathLike[str], group: str = "") -> dict[int, set[tuple[str, int]]]:
    """The partitions each process (by pid) owned at its latest assignment, in every consumer
    group or only in ``group``."""
    out: dict[int, set[tuple[str, int]]] = {}
    for p in sorted(Path(where).glob(f"owned-{group}*.json")):
        doc = json.loads(p.read_text())
        out[doc["pid"]] = {(t, n) for t, n in doc["partitions"]}
    return out


def wait_paused(where: str | os.PathLike[str], processes: int = 1, timeout: float = 120.0,
                alive: Callable[[], bool] = lambda: True) -> list[dict]:  # type: ignore[type-arg]
    """The batch files once ``processes`` distinct processes wrote one; raise AssertionError
    after ``timeout`` seconds, or as soon as ``alive()`` says the processes under test died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        marks = paused(where)
        if len({m["pid"] for m in marks}) >= processes:
            return marks
        if not alive():
            raise AssertionError("a worker process exited before reaching the pause")
        time.sleep(0.1)
    raise AssertionError(f"{processes} worker process(es) did not pause before a commit within {timeout:g}s")
