"""A fault point for crash tests: stop a worker between its durable write and its commit.

A ``kill -9`` at a random moment mostly lands between batches, where it proves nothing about
at-least-once delivery. With ``VITALSTREAM__PAUSE_BEFORE_COMMIT=N:DIR`` in its environment,
every worker of a process (processor or sink, driven by :func:`vitalstream.runtime.run_worker`)
stops after making its N-th batch durable and *before* committing its offsets, writes
``DIR/<group>-<pid>.json`` saying so (the batch's offsets per partition), and waits there up
to ``VITALSTREAM__PAUSE_SECONDS`` (default 120) or until the worker is told to stop — long enough for a test to
see the file and then kill the process (``kill -9``: the batch must be redone) or stop it
(Ctrl-C: the batch must still be committed) at exactly the moment that matters. Without the
variable the check costs one comparison per batch. With ``VITALSTREAM__PAUSE_SECONDS=0`` it
only records that each worker got to its N-th batch (which partitions it was working on).

The file, one JSON object: ``{"group", "pid", "batch", "records", "first": {"topic:p":
offset}, "next": {"topic:p": offset}}`` — ``first`` is the batch's first offset per
partition (where the committed position must still be), ``next`` one past its last.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..log.base import Record

ENV = "VITALSTREAM__PAUSE_BEFORE_COMMIT"
SECONDS_ENV = "VITALSTREAM__PAUSE_SECONDS"


def _parse(value: str | None) -> tuple[int, Path] | None:
    if not value:
        return None
    n, sep, where = value.partition(":")
    if not sep or not n.isdigit() or int(n) < 1 or not where:
        raise ValueError(f"{ENV}={value!r}: expected N:DIR with N >= 1")
    return int(n), Path(where)


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
        doc = {"group": group, "pid": os.getpid(), "batch": n, "records": len(records),
               "first": first, "next": nxt}
        self.where.mkdir(parents=True, exist_ok=True)
        final = self.where / f"{group}-{os.getpid()}.json"
        tmp = final.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        tmp.replace(final)  # the test never reads a half-written file
        if stop is None:
            time.sleep(self.seconds)
        else:
            stop.wait(self.seconds)


_PAUSE = _parse(os.environ.get(ENV))
_point = _Pause(*_PAUSE, float(os.environ.get(SECONDS_ENV, "120"))) if _PAUSE else None


def before_commit(group: str, records: Sequence[Record], stop: threading.Event | None = None) -> None:
    """Called by the worker loop once a batch is durable and before its offsets commit."""
    if _point is not None:
        _point.reached(group, records, stop)


def paused(where: str | os.PathLike[str]) -> list[dict]:  # type: ignore[type-arg]
    """The pause files written under ``where`` so far (for the test that set the variable)."""
    return [json.loads(p.read_text()) for p in sorted(Path(where).glob("*.json"))]
