"""The warehouse model's run time (issue 14): ``dbt build`` over N heart-rate events on DuckDB.

Input: the heart-rate stream simulator (:mod:`vitalstream.simulate.heartrate`) — users,
activities, and one event per user every ``interval_s`` of event time, so 1M events from 1,000
users span about eight hours, with users moving country and activities renamed along the way
(type-2 versions for the dimensions to join). It is loaded the way the product loads it:
producer → processor → warehouse sink on an embedded log, timed separately from the model.

Then, on the loaded DuckDB warehouse, the model is built twice through
:func:`vitalstream.model.runner.run` (what ``vitalstream model build`` and the schedule call),
each in a fresh interpreter: a **full** build (every model from nothing, every test) and an
**incremental** one after 1 % more events arrived (what the schedule does every interval).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import topics as T
from .inputs import Inputs

USERS = 1000
INTERVAL_S = 30.0  # one event per user every 30 s of event time: 1M events ≈ 8 h, with SCD changes
FACT_TABLES = ("fct_heart_rates", "dim_users", "dim_activities", "daily_aggregates")


def heart_rate_inputs(events: int, extra: int, users: int = USERS, seed: int = 3) -> tuple[Inputs, Inputs]:
    """``events`` heart-rate events (and the user/activity changes among them), then ``extra``
    more: the second batch the incremental build finds. Event times end about now."""
    from ..simulate import make

    span = timedelta(seconds=(events + extra) / users * INTERVAL_S)
    start = (datetime.now(UTC) - span - timedelta(minutes=10)).replace(microsecond=0)
    sim = make("heart-rate", patients=users, seed=seed, start=start, interval_s=INTERVAL_S)
    reference = sim.reference()  # before the events: a user's move changes what it returns
    first: list[Any] = []
    second: list[Any] = []
    seen = 0
    for m in sim.events():
        if seen >= events + extra:
            break
        (first if seen < events else second).append(m)
        seen += m.topic == T.HR_DATA
    return Inputs(reference, first), Inputs([], second)


def build(warehouse_url: str, work_dir: str) -> dict[str, Any]:
    """One ``dbt build`` (child stage): its duration, what ran, the slowest nodes, table sizes."""
    from ..model.runner import run
    from ..sinks.warehouse import open_warehouse

    t0 = time.time()
    res = run(warehouse_url, "build", Path(work_dir), quiet=True)
    t1 = time.time()
    with open_warehouse(warehouse_url, read_only=True) as wh:
        rows = {t: wh.count(t) for t in FACT_TABLES} if res.ok else {}
    return {"wall_s": t1 - t0, "duration_s": res.duration_s, "ok": res.ok, "models": res.models,
            "tests": res.tests, "failed": res.failed[:5], "message": res.message, "rows": rows,
            "slowest": slowest_nodes(Path(work_dir) / "target" / "run_results.json")}


def slowest_nodes(run_results: Path, top: int = 4) -> list[tuple[str, float]]:
    """The nodes that took longest, from dbt's ``run_results.json``."""
    try:
        results = json.loads(run_results.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []
    timed = sorted(((r["unique_id"].split(".")[-1], round(r.get("execution_time") or 0.0, 2)) for r in results),
                   key=lambda x: -x[1])
    return timed[:top]


def scenario(run: Any) -> dict[str, Any]:
    """Load ``run.plan.model_events`` heart-rate events, build the model twice (full, then
    incremental after 1 % more events); called by :class:`vitalstream.bench.runner.Run`."""
    from ..model.schedule import available
    from . import child
    from .inputs import save_inputs

    if not available():
        return {"events_per_s": None, "note": "skipped: the model extra (dbt) is not installed"}
    n = run.plan.model_events
    extra = max(1000, n // 100)
    first, second = heart_rate_inputs(n, extra)
    paths = [str(run.work / "model-1.msgpack"), str(run.work / "model-2.msgpack")]
    save_inputs(first, paths[0])
    save_inputs(second, paths[1])
    del first, second
    log_url, warehouse = run._sqlite("model"), f"duckdb:///{run.work}/model.duckdb"
    lake, work_dir = f"file://{run.work}/model-lake", str(run.work / "model-dbt")

    def load(path: str, events: int) -> dict[str, Any]:
        res: dict[str, Any] = run._pipeline(log_url, path, events, lake, warehouse, sinks=("warehouse",))
        return res

    run.say(f"model: loading {n:,} heart-rate events (producer, processor, warehouse sink)")
    loaded = load(paths[0], n)
    run.say("model: full dbt build")
    full = child.run(f"{__name__}:build", warehouse_url=warehouse, work_dir=work_dir)
    loaded2 = load(paths[1], extra)
    run.say(f"model: incremental dbt build after {extra:,} more events")
    inc = child.run(f"{__name__}:build", warehouse_url=warehouse, work_dir=work_dir)
    out: dict[str, Any] = {
        "events": n, "users": USERS, "events_per_s": n / full["wall_s"], "wall_s": full["wall_s"],
        "full_build_s": full["wall_s"], "incremental_build_s": inc["wall_s"], "incremental_events": extra,
        "ok": full["ok"] and inc["ok"], "models": full["models"], "tests": full["tests"],
        "failed": full["failed"] + inc["failed"], "message": full["message"] or inc["message"],
        "rows": inc["rows"], "slowest_full": full["slowest"], "slowest_incremental": inc["slowest"],
        "load_s": loaded["wall_s"], "load_events_per_s": loaded["events_per_s"],
        "load_stages": loaded["stages"], "load_incremental_s": loaded2["wall_s"],
        "cpu_s": full["cpu_s"], "peak_rss_mb": max(full["peak_rss_mb"], inc["peak_rss_mb"]),
        "cpu_s_incremental": inc["cpu_s"],
    }
    out["note"] = note(out, run.plan.quick)
    return out


def note(res: dict[str, Any], quick: bool) -> str:
    text = (f"dbt build: full {res['full_build_s']:.1f} s, incremental (+{res['incremental_events']:,} events) "
            f"{res['incremental_build_s']:.1f} s; {res['models']} models, {res['tests']} tests; "
            f"loaded in {res['load_s']:.0f} s")
    if not res.get("ok"):
        text += "; BUILD FAILED: " + "; ".join(res.get("failed") or [res.get("message", "")])[:200]
    if quick:
        text += f" (quick: {res['events']:,} events, not 1,000,000)"
    return text


__all__ = ["build", "heart_rate_inputs", "note", "scenario", "slowest_nodes"]
