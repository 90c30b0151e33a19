"""One sink alone on a pre-loaded log: ``sink_duckdb``, ``sink_postgres``, ``sink_lake``,
``sink_landing``.

The log is loaded once: the bench's mixed vitals are produced into an embedded log and the
real processor runs over them to the end, so the processed topics, alerts and NEWS2 scores
hold exactly what a pipeline would give the sinks. Then each sink runs in a fresh interpreter
(:mod:`vitalstream.bench.child`) in its own consumer group, from its first poll to the commit
of the last record. Nothing else runs meanwhile, so the figure is the sink's own: records per
second of wall time and CPU microseconds per record of the sink's process.

The warehouse is migrated before the clock starts (a one-off). PostgreSQL runs only with
``VITALSTREAM_TEST_POSTGRES=postgresql://…`` (a private schema, dropped afterwards).
"""

from __future__ import annotations

import importlib
import os
import time
import uuid
from typing import Any

from . import child
from .inputs import mixed_vitals, save_inputs

MAX_EVENTS = 500_000  # the full plan's 1M would double the pre-load for little more accuracy
_STAGES = "vitalstream.bench.stages"
TARGETS = {"sink_duckdb": 150_000, "sink_postgres": 80_000, "sink_lake": 200_000,
           "sink_landing": 200_000}  # the landing is a lake sink: the lake's target


def measure(log_url: str, sink: str, lake_url: str, warehouse_url: str, group: str,
            timeout_s: float = 900.0) -> dict[str, Any]:
    """Child stage: run the sink ``sink`` (``lake``, ``landing`` or ``warehouse``) as consumer ``group`` over
    everything its topics hold; the clock and the CPU count start at its first poll."""
    from ..config import Settings
    from ..log import open_log
    from ..sinks import build_sinks
    from ..sinks.warehouse import open_warehouse
    from .stages import SINK_MAX_RECORDS, _run_until

    if sink == "warehouse":
        with open_warehouse(warehouse_url) as wh:
            wh.migrate()
    log = open_log(log_url)
    settings = Settings(log_url=log_url, lake_url=lake_url, warehouse_url=warehouse_url)
    [worker] = build_sinks(log, settings, [sink])
    worker.group = group  # each scenario reads the whole log
    expected = sum(g.lag for g in log.group_lag(worker.group, list(worker.topics)))
    for module in ("pyarrow.json", "pyarrow.parquet"):  # imports are start-up, not the sink's work
        importlib.import_module(module)

    cpu0 = time.process_time()
    out = _run_until(log, worker, expected, None, timeout_s, max_records=SINK_MAX_RECORDS)
    cpu = time.process_time() - cpu0
    log.close()
    records = out["records"]
    out.update(events=records, expected=expected, events_per_s=out["records_per_s"], cpu_s=cpu,
               cpu_us_per_record=round(cpu / records * 1e6, 1) if records else None)
    if sink == "warehouse":
        with open_warehouse(warehouse_url, read_only=True) as wh:
            out["rows"] = int(wh.query("SELECT sum(n) FROM (" + " UNION ALL ".join(
                f"SELECT count(*) AS n FROM {t}" for t in _loaded_tables()) + ") c")[1][0][0] or 0)
    return out


def _loaded_tables() -> list[str]:
    from ..sinks.warehouse.schema import TABLES

    return [t.name for t in TABLES]


def scenarios(run: Any) -> dict[str, dict[str, Any]]:
    """Pre-load the log, then measure each sink alone on it; called by
    :class:`vitalstream.bench.runner.Run`."""
    n = min(run.plan.events, MAX_EVENTS)
    work = run.work / "sinks"
    work.mkdir(exist_ok=True)
    inputs = mixed_vitals(n)
    path = str(work / "inputs.msgpack")
    save_inputs(inputs, path)
    expected = len(inputs.reference) + len(inputs.events)
    del inputs
    log_url = f"sqlite:///{work}/log.db"
    run.say(f"sinks: pre-loading {n:,} events through the processor, then each sink alone")
    child.run(f"{_STAGES}:produce", log_url=log_url, inputs_path=path)
    child.run(f"{_STAGES}:process", log_url=log_url, events=n, expected=expected)
    out: dict[str, dict[str, Any]] = {}
    lake = f"file://{work}/lake"
    out["sink_duckdb"] = _one(run, "sink_duckdb", log_url, "warehouse", lake, f"duckdb:///{work}/wh.duckdb")
    pg = os.environ.get("VITALSTREAM_TEST_POSTGRES")
    if pg:
        out["sink_postgres"] = _postgres(run, log_url, lake, pg)
    else:
        out["sink_postgres"] = {"events_per_s": None, "note": "skipped: set VITALSTREAM_TEST_POSTGRES="
                                "postgresql://user:password@host:port/db to measure"}
        run.say(f"sink_postgres: {out['sink_postgres']['note']}")
    out["sink_lake"] = _one(run, "sink_lake", log_url, "lake", lake, f"duckdb:///{work}/unused.duckdb")
    out["sink_landing"] = _one(run, "sink_landing", log_url, "landing", lake, f"duckdb:///{work}/unused.duckdb")
    return out


def run(run: Any) -> None:
    """The ``sinks`` scenario family in the bench's registry."""
    run.results.update(scenarios(run))


def _one(run: Any, name: str, log_url: str, sink: str, lake: str, warehouse: str) -> dict[str, Any]:
    run.say(f"{name}: one sink alone on the pre-loaded log")
    try:
        res = child.run(f"{__name__}:measure", log_url=log_url, sink=sink, lake_url=lake, warehouse_url=warehouse,
                        group=f"bench-{run.run_id}-{name}")
    except Exception as exc:  # one broken sink must not lose the others' figures
        run.say(f"{name}: failed: {exc}")
        return {"events_per_s": None, "error": str(exc)[-500:], "note": "failed"}
    res.pop("rss_mb_series", None)
    target = TARGETS[name]
    res["target_per_s"] = target
    res["met"] = bool(res["events_per_s"] >= target)
    res["note"] = (f"{res['cpu_us_per_record']} CPU-µs/record; target {target:,}/s "
                   f"{'met' if res['met'] else 'MISSED'}")
    run.say(f"{name}: {res['events_per_s']:,.0f} records/s, {res['note']}")
    return res


def _postgres(run: Any, log_url: str, lake: str, pg: str) -> dict[str, Any]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in pg else "?"
        return _one(run, "sink_postgres", log_url, "warehouse", lake, f"{pg}{sep}options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
