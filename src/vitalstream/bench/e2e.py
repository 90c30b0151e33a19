"""End to end with the sinks (embedded and Kafka), and the processor's scale-out on Kafka."""

from __future__ import annotations

from typing import Any

from . import child
from .inputs import mixed_vitals, save_inputs

_STAGES = "vitalstream.bench.stages"
_LAT = "vitalstream.bench.latency"


def _inputs(run: Any, n: int, name: str) -> str:
    """The run's mixed input, or a smaller one of ``n`` events when the scenario was scaled."""
    if n >= run.plan.events and run.mixed_path:
        return str(run.mixed_path)
    path = str(run.work / f"{name}.msgpack")
    save_inputs(mixed_vitals(n), path)
    return path


def _sinks(run: Any, name: str) -> dict[str, str]:
    return {"lake": f"file://{run.work}/{name}-lake", "warehouse": f"duckdb:///{run.work}/{name}-wh.duckdb"}


def e2e(run: Any) -> None:
    """``e2e_embedded``; with a broker, ``e2e_kafka`` (producer, one fused processor, raw lake,
    landing, DuckDB warehouse) and its processor stage as ``processor_kafka``."""
    # the sinks share two cores with the processor: about a quarter of its solo rate
    n = run.fit(run.plan.events, (run.rate("processor_embedded") or 0) / 4, run.plan.e2e_s, 20_000)
    run.say(f"embedded end to end: {n:,} events, producer + processor + lake + landing + warehouse")
    sinks = _sinks(run, "e2e")
    res = run._pipeline(run._sqlite("e2e"), _inputs(run, n, "e2e"), n, sinks["lake"], sinks["warehouse"])
    if n < run.plan.events:
        res["scaled_from"] = run.plan.events
    run.record("e2e_embedded", res)
    if run.broker:
        run._guard("e2e_kafka", lambda: e2e_kafka(run, run.broker))


def e2e_kafka(run: Any, broker: str) -> None:
    rate = run.rate("e2e_embedded") or (run.rate("processor_embedded") or 0) / 4
    n = run.fit(run.plan.events, rate, run.plan.e2e_kafka_s, 20_000)
    group = f"bench-{run.run_id}-e2e"
    run.say(f"Kafka end to end: {n:,} events, producer + one processor + lake + landing + warehouse")
    child.run(f"{_STAGES}:prepare_kafka", broker=broker, group=group)
    sinks = _sinks(run, "e2e-kafka")
    child.run(f"{_STAGES}:prepare_sinks", broker=broker, names=["lake", "landing", "warehouse"],
              group_prefix=f"bench-{run.run_id}-", lake_url=sinks["lake"], warehouse_url=sinks["warehouse"])
    res = run._pipeline(f"kafka://{broker}", _inputs(run, n, "e2e-kafka"), n, sinks["lake"], sinks["warehouse"],
                        group=group, group_prefix=f"bench-{run.run_id}-")
    proc = res["stages"]["process"]
    run.results["processor_kafka"] = {"events": n, "events_per_s": proc["per_s"], "cpu_s": proc["cpu_s"],
                                      "peak_rss_mb": proc["peak_rss_mb"], "note": "processor stage of e2e_kafka"}
    if n < run.plan.events:
        res["scaled_from"] = run.plan.events
    res["note"] = "with the sinks, one fused processor; " + res["note"]
    run.record("e2e_kafka", res)


def scaleout(run: Any) -> None:
    """``scaleout_kafka``: the split processor (N stateless + N stateful workers) for each N of
    the plan, producer and processor only: throughput on the mixed input, then alert latency
    at the latency rate. Two cores cap it: the curve shows the overhead of splitting and how
    much of a core each worker adds, which is what more cores would multiply."""
    if not run.broker:
        run.skipped("scaleout_kafka", "no Kafka broker")
        return
    broker = run.broker
    rate = (run.rate("processor_kafka") or run.rate("processor_embedded") or 0)
    n = run.fit(run.plan.events, rate, run.plan.scaleout_s, 20_000)
    path = _inputs(run, n, "scaleout")
    points = []
    for workers in run.plan.scaleout_workers:
        group = f"bench-{run.run_id}-scale{workers}"
        run.say(f"scale-out: {workers} worker(s) per stage, {n:,} events, then latency at "
                f"{run.plan.latency_rate:,.0f}/s for {run.plan.scaleout_latency_s:.0f} s")
        child.run(f"{_STAGES}:prepare_kafka", broker=broker, group=group)
        point: dict[str, Any] = {"workers": workers}
        try:
            res = run._pipeline(f"kafka://{broker}", path, n, None, None, group=group, workers=workers)
            # The latency groups start at the end of the topics only now: prepared before the
            # throughput run, they would first have to read its whole input and repartition
            # backlog, and the latency points measured that catching up (seconds), not latency.
            child.run(f"{_STAGES}:prepare_kafka", broker=broker, group=group + "-lat")
            proc_cpu = sum(v["cpu_s"] for k, v in res["stages"].items() if k != "produce")
            point.update(events=n, events_per_s=res["events_per_s"], cpu_s=res["cpu_s"], processor_cpu_s=proc_cpu,
                         events_per_core_s=round(n / proc_cpu) if proc_cpu else None,
                         peak_rss_mb=res["peak_rss_mb"], complete=res["complete"])
            lat = child.run(f"{_LAT}:measure", log_url=f"kafka://{broker}", rate=run.plan.latency_rate,
                            duration_s=run.plan.scaleout_latency_s, group=group + "-lat", work=str(run.work),
                            processor="vitalstream.bench.pipeline:workers", processor_args={"workers": workers})
            point.update({k: lat.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "alerts", "processor_ready_after_s",
                                                  "news2", "stages")})
        except Exception as exc:  # one point failing keeps the others
            point["error"] = str(exc)[-300:]
        points.append(point)
    one = next((p.get("events_per_s") for p in points if p["workers"] == 1), None)
    for p in points:
        p["speedup"] = round(p["events_per_s"] / one, 2) if one and p.get("events_per_s") else None
    best = max(points, key=lambda p: p.get("events_per_s") or 0)
    # Given the cores, throughput ~ cores x events per processor CPU-second (<= 6 workers per stage)
    per_core = min((p["events_per_core_s"] for p in points if p.get("events_per_core_s")), default=None)
    run.record("scaleout_kafka", {
        "events": n, "events_per_s": best.get("events_per_s"), "points": points, "scaled_from": None if n >= run.plan.events else run.plan.events,
        "predicted_per_core": per_core,
        "note": "; ".join(f"{p['workers']}w {p.get('events_per_s') or 0:,.0f}/s p99 {p.get('p99_ms')} ms" for p in points)
        + (f"; predicts ~{per_core:,.0f}/s per processor core (<= 6 workers per stage)" if per_core else "")})
