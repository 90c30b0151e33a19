"""The warehouse sink loads a batch on its loader thread while the loop polls the next one.

Every commit the loop makes is checked against what the database holds: an offset is never
committed before the rows below it were loaded. A crash between the load and the commit, or
while a batch loads and another waits, loses nothing and duplicates nothing after a restart;
a loader error is raised on the loop's thread (retried if transient, fatal otherwise).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from contract.sink_contract import produce_events
from vitalstream import topics as T
from vitalstream.errors import TerminalError
from vitalstream.log import read_all
from vitalstream.runtime import Health, run_worker
from vitalstream.sinks import WarehouseUnavailable
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse
from vitalstream.testing import Faults, memory_log

N = 3000


class Killed(BaseException):
    """The process dies here (nothing after it runs on that thread)."""


class Observed:
    """The real DuckDB warehouse, noting which event ids each committed load held; a load may
    be slowed (so batches queue up behind it) or fail on the ``faults`` schedule."""

    def __init__(self, url: str, loaded: set[str], faults: Faults | None = None, slow_s: float = 0.0) -> None:
        self.real = open_warehouse(url)
        self.faults = faults or Faults(at=None)
        self.slow_s = slow_s
        self.loaded = loaded  # shared by the runs of one test (a restart finds the rows)
        self.lock = threading.Lock()

    def migrate(self) -> list[int]:
        return self.real.migrate()

    def load(self, batch: dict[str, Any]) -> None:
        self.faults.check(sum(t.num_rows for t in batch.values()), WarehouseUnavailable)
        time.sleep(self.slow_s)
        self.real.load(batch)
        with self.lock:
            self.loaded.update(batch["processed_heart_rate_data"].column("event_id").to_pylist())

    def close(self) -> None:
        self.real.close()


class Watched:
    """The log, whose consumers check every commit against ``warehouse.loaded`` and may die at
    the ``kill_at``-th commit, before it reaches the log."""

    def __init__(self, log: Any, ids: dict[tuple[str, int, int], str], warehouse: Observed,
                 kill_at: int | None = None) -> None:
        self.log, self.ids, self.warehouse, self.kill_at = log, ids, warehouse, kill_at
        self.commits = 0
        self.ahead = 0  # commits made while a later batch was already polled (loads overlapped)

    def consumer(self, group: str, topics: list[str]) -> Any:
        return _Consumer(self, self.log.consumer(group, topics))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.log, name)


class _Consumer:
    def __init__(self, watched: Watched, inner: Any) -> None:
        self.w, self.inner = watched, inner
        self.polled: dict[tuple[str, int], int] = {}

    def poll(self, max_records: int, timeout: float) -> list[Any]:
        records = self.inner.poll(max_records=max_records, timeout=timeout)
        for r in records:
            self.polled[(r.topic, r.partition)] = r.offset + 1
        return records

    def commit(self, offsets: dict[tuple[str, int], int] | None = None) -> None:
        assert offsets is not None, "a checkpointing sink commits explicit offsets"
        w = self.w
        w.commits += 1
        with w.warehouse.lock:
            loaded = set(w.warehouse.loaded)
        for (topic, partition), upto in offsets.items():
            missing = [o for (t, p, o), eid in w.ids.items()
                       if (t, p) == (topic, partition) and o < upto and eid not in loaded]
            assert not missing, f"commit of {topic}:{partition} up to {upto} before offsets {missing[:5]} loaded"
        if any(self.polled.get(tp, 0) > o for tp, o in offsets.items()):
            w.ahead += 1
        if w.kill_at is not None and w.commits == w.kill_at:
            raise Killed
        self.inner.commit(offsets)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def log():
    with memory_log() as log:
        T.ensure_all(log)
        produce_events(log, N, chunk=1000)
        yield log


def _ids(log: Any) -> dict[tuple[str, int, int], str]:
    return {(r.topic, r.partition, r.offset): json.loads(r.value)["event_id"]
            for r in read_all(log, [T.PROCESSED_HEART_RATE])}


def _run(log: Any, url: str, loaded: set[str], *, kill_at: int | None = None, faults: Faults | None = None,
         slow_s: float = 0.0, health: Health | None = None) -> Watched:
    wh = Observed(url, loaded, faults, slow_s)
    watched = Watched(log, _ids(log), wh, kill_at)
    sink = WarehouseSink(wh, [T.PROCESSED_HEART_RATE])  # type: ignore[arg-type]
    run_worker(watched, sink, threading.Event(), max_records=150, max_wait_s=0.05, until_idle=True,  # type: ignore[arg-type]
               health=health)
    return watched


def _exactly_once(url: str) -> None:
    with open_warehouse(url) as wh:
        _, rows = wh.query("SELECT count(*), count(DISTINCT event_id), sum(heart_rate) FROM processed_heart_rate_data")
    assert tuple(rows[0]) == (N, N, sum(40 + i % 120 for i in range(N)))


@pytest.mark.parametrize("kill_at", [1, 4, 9])
def test_killed_between_load_and_commit_loses_and_duplicates_nothing(tmp_path, log, kill_at) -> None:
    url, loaded = f"duckdb:///{tmp_path}/wh.duckdb", set()
    with pytest.raises(Killed):
        _run(log, url, loaded, kill_at=kill_at, slow_s=0.02)
    # the restart reads from the last commit: what was loaded since is loaded again, idempotently
    watched = _run(log, url, loaded)
    assert watched.commits > 0
    _exactly_once(url)


def test_killed_while_a_batch_loads_and_another_waits(tmp_path, log) -> None:
    url, loaded = f"duckdb:///{tmp_path}/wh.duckdb", set()
    # the 6th load dies before its transaction: neither it nor the batch behind it is committed
    faults = Faults(at=6, times=None, error=Killed)
    with pytest.raises(Killed):
        _run(log, url, loaded, faults=faults, slow_s=0.02)
    watched = _run(log, url, loaded)
    _exactly_once(url)
    assert watched.commits > 0


def test_loads_overlap_polls_and_commits_follow_loads(tmp_path, log) -> None:
    url, loaded = f"duckdb:///{tmp_path}/wh.duckdb", set()
    watched = _run(log, url, loaded, slow_s=0.02)
    assert watched.ahead > 0  # commits happened while the next batch was already polled
    _exactly_once(url)


def test_transient_loader_error_is_retried_unhealthy_meanwhile(tmp_path, log) -> None:
    url, loaded = f"duckdb:///{tmp_path}/wh.duckdb", set()
    faults, health = Faults(at=3, times=3), Health()
    _run(log, url, loaded, faults=faults, health=health)
    assert faults.failed == 3  # the same batch, tried again until it loaded
    assert "injected fault" in health.last_error and health.healthy
    _exactly_once(url)


def test_terminal_loader_error_stops_the_worker(tmp_path, log) -> None:
    url, loaded = f"duckdb:///{tmp_path}/wh.duckdb", set()
    faults = Faults(at=2, times=None, error=TerminalError)
    with pytest.raises(TerminalError, match="injected fault"):
        _run(log, url, loaded, faults=faults)  # the commit check inside held until it stopped
    with open_warehouse(url) as wh:
        assert 0 < wh.count("processed_heart_rate_data") < N
