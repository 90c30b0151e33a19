"""A pipeline as processes: producer, processor (fused, or N workers of each split stage) and
sinks, each in its own interpreter (:mod:`.child`), handing over through "done" files.

The producer touches its file when everything is stored; each processor stage runs until the
files of the stage before it exist and its group has nothing left to read, then touches its
own; the sinks wait for the processor's. Throughput = events / (first produce → last commit of
the last component).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from . import child
from .inputs import load_inputs

_STAGES = "vitalstream.bench.stages"
#: The sinks' processes, as `vitalstream up` runs them on DuckDB with its dashboard: the lake
#: sinks share one, the warehouse sink runs in the dashboard's (supervise.py, cli/pipeline.py)
SINK_PROCESSES = ("lake,landing", "warehouse")


def _ensure_topics(url: str) -> None:
    from .. import topics as T
    from ..log import open_log

    log = open_log(url)
    try:
        T.ensure_all(log)
    finally:
        log.close()


def start_processor(url: str, work: str, tag: str, n: int, expected: int | None, upstream: str | list[str],
                    group: str | None, workers: int, ready: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Start the processor: ``workers`` = 0 is one fused process (both stages), N ≥ 1 is N
    stateless and N stateful workers. Returns the started children and the files they touch
    when done. ``ready`` collects files each touches once it has joined and restored."""
    procs: dict[str, Any] = {}
    if workers <= 0:
        done = f"{work}/done-{tag}-process"
        procs["process"] = child.start(f"{_STAGES}:process", log_url=url, events=n, expected=expected,
                                       done_file=None if expected else upstream, signal_file=done, group=group,
                                       ready_file=_ready(ready, work, tag, "process"))
        return procs, [done]
    base = group or "vitalstream-processor"
    prepared = [f"{work}/done-{tag}-prepare-{i}" for i in range(workers)]
    scored = [f"{work}/done-{tag}-score-{i}" for i in range(workers)]
    for i in range(workers):
        procs[f"prepare-{i}"] = child.start(f"{_STAGES}:process", log_url=url, events=n, done_file=upstream,
                                            signal_file=prepared[i], group=base, fused=False,
                                            ready_file=_ready(ready, work, tag, f"prepare-{i}"))
    for i in range(workers):
        procs[f"score-{i}"] = child.start(f"{_STAGES}:score", log_url=url, done_file=prepared, group=f"{base}-scorer",
                                          signal_file=scored[i], ready_file=_ready(ready, work, tag, f"score-{i}"))
    return procs, scored


def _ready(ready: list[str] | None, work: str, tag: str, name: str) -> str | None:
    if ready is None:
        return None
    path = f"{work}/ready-{tag}-{name}"
    ready.append(path)
    return path


def run_pipeline(run: Any, url: str, inputs_path: str, n: int, lake: str | None, warehouse: str | None,
                 group: str | None = None, group_prefix: str = "",
                 sinks: tuple[str, ...] = SINK_PROCESSES, workers: int = 0) -> dict[str, Any]:
    inputs = load_inputs(inputs_path)
    expected = len(inputs.reference) + len(inputs.events)
    del inputs
    _ensure_topics(url)  # before any child opens a consumer on them
    tag = uuid.uuid4().hex[:6]
    produced = f"{run.work}/done-{tag}-produce"
    procs = {"produce": child.start(f"{_STAGES}:produce", log_url=url, inputs_path=inputs_path, done_file=produced)}
    stage_procs, done = start_processor(url, str(run.work), tag, n, expected if workers <= 0 else None, produced,
                                        group, workers)
    procs.update(stage_procs)
    if lake and warehouse:
        for name in sinks:
            procs[name] = child.start(f"{_STAGES}:sink", log_url=url, name=name, lake_url=lake,
                                      warehouse_url=warehouse, done_file=done, group_prefix=group_prefix)
    res = {k: child.collect(p, timeout=1200) for k, p in procs.items()}
    return summarise(n, res)


def _caught_up(url: str, group: str) -> bool:
    """Both stages' groups (``group`` on the raw topics, ``group``-scorer on the repartition
    topic) have read everything there is."""
    from .. import topics as T
    from ..log import open_log
    from ..processing.processor import INPUT_TOPICS

    log = open_log(url)
    try:
        lags = [*log.group_lag(group, list(INPUT_TOPICS)), *log.group_lag(f"{group}-scorer", [T.REPARTITION_VITALS])]
    finally:
        log.close()
    return all(g.lag <= 0 for g in lags)


def summarise(n: int, res: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One result from the components' own: wall from the first produce to the last commit."""
    t_first = res["produce"]["t_first"]
    t_last = max(r["t_last"] for r in res.values())
    stages = {}
    for k, r in res.items():
        rate = r.get("events_per_s") or r.get("records_per_s")
        # when each component took its first record and made its last commit, in seconds from
        # the first produce: how much of the wall each one spans (the start and the tail)
        stages[k] = {"records": r.get("records", r.get("events")), "per_s": rate,
                     "cpu_s": r["cpu_s"], "peak_rss_mb": r["peak_rss_mb"],
                     "from_s": round(r["t_first"] - t_first, 3), "to_s": round(r["t_last"] - t_first, 3)}
    wall = t_last - t_first
    return {"events": n, "wall_s": wall, "events_per_s": n / wall if wall else 0.0, "stages": stages,
            "cpu_s": sum(r["cpu_s"] for r in res.values()),
            "peak_rss_mb": max(r["peak_rss_mb"] for k, r in res.items() if k != "produce"),
            "complete": all(r.get("complete", True) for r in res.values()),
            "note": ", ".join(f"{k} {v['per_s'] or 0:,.0f}/s" for k, v in stages.items())}


def workers(log_url: str, events: int, done_file: str, group: str, ready_file: str, workers: int,
            timeout_s: float = 600.0) -> dict[str, Any]:
    """The split processor with ``workers`` per stage, as one measured component (for the
    latency scenario). Ready (``ready_file``) means steady state: every worker of both stages
    owns partitions (so the group holds all N members and has restored their state) and
    neither group has anything left to read, so the latency clock never counts a backlog
    (another run's records) or a rebalance. Finished when ``done_file`` exists and both stages
    have read everything."""
    from pathlib import Path

    work = str(Path(done_file).parent)
    ready: list[str] = []
    procs, _ = start_processor(log_url, work, uuid.uuid4().hex[:6], events, None, done_file, group, workers, ready)
    deadline = time.monotonic() + 120
    while not (all(Path(f).exists() for f in ready) and _caught_up(log_url, group)) and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs.values()):
            break
        time.sleep(0.1)
    Path(ready_file).touch()
    res = {k: child.collect(p, timeout=timeout_s) for k, p in procs.items()}
    return {"events": events, "workers": workers, "cpu_s": sum(r["cpu_s"] for r in res.values()),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in res.values()),
            "stats": {k: r.get("stats") for k, r in res.items()},
            "batch_stages": {k: r.get("batch_stages") for k, r in res.items()}}
