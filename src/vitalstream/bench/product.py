"""Scenarios measuring one part of the product apart: alert latency, the ingest edges, the
clinical-notes stage, the warehouse model and the dashboard (the last two in their own modules)."""

from __future__ import annotations

import os
from typing import Any

from . import child

_STAGES = "vitalstream.bench.stages"
_LAT = "vitalstream.bench.latency"


def latency(run: Any) -> None:
    """``latency_kafka`` (with a broker) and ``latency_embedded``: event time → alert read."""
    if run.broker:
        run._guard("latency_kafka", lambda: _latency(run, f"kafka://{run.broker}", "latency_kafka"))
    run._guard("latency_embedded", lambda: _latency(run, run._sqlite("latency"), "latency_embedded"))
    run._guard("latency_embedded_20k", lambda: _latency(run, run._sqlite("latency20k"), "latency_embedded_20k",
                                                        run.plan.latency_rate_high))


def _latency(run: Any, url: str, name: str, rate: float | None = None) -> None:
    rate = rate or run.plan.latency_rate
    run.say(f"{name}: {rate:,.0f} events/s for {run.plan.latency_s:.0f} s")
    group = f"bench-{run.run_id}-{name}"
    if url.startswith("kafka://"):
        child.run(f"{_STAGES}:prepare_kafka", broker=url[len("kafka://"):], group=group)
    res = child.run(f"{_LAT}:measure", log_url=url, rate=rate, duration_s=run.plan.latency_s,
                    group=group, work=str(run.work))
    run.record(name, res)


def edges(run: Any) -> None:
    from . import edges as edge

    seconds = 3.0 if run.plan.quick else 5.0
    run.say("ingest edges: HTTP batched and single")
    with edge.server_process() as url:
        batched = edge.http_batched_rate(url, seconds=seconds)
        single = edge.http_single_rate(url, seconds=seconds)
    run.record("edge_http_batched", {"events_per_s": batched, "note": "POST /stream, 1000-event bodies"})
    run.record("edge_http_single", {"events_per_s": single, "note": "one event per request"})
    mqtt = os.environ.get("VITALSTREAM_TEST_MQTT")
    if mqtt:
        try:
            rate = edge.measure_bridge_rate(mqtt, seconds=seconds)
            run.record("edge_mqtt_qos1", {"events_per_s": rate, "note": "MQTT QoS 1 through the bridge"})
        except Exception as exc:
            run.failed("edge_mqtt_qos1", exc)


def notes(run: Any) -> None:
    n = 5_000 if run.plan.quick else 20_000
    run.say(f"notes stage: {n:,} simulated clinical notes, embedded log")
    out = child.run(f"{_STAGES}:notes", log_url=run._sqlite("notes"), events=n)
    run.record("notes_embedded", out, note=f"{out.get('events_per_cpu_s', 0):,.0f} notes per CPU-second "
                                          "(extraction: medspaCy ConText + vocabularies)")


def model(run: Any) -> None:
    from . import model as warehouse_model

    run.record("model", warehouse_model.scenario(run))


def dashboard(run: Any) -> None:
    from . import dashboard as board

    for name, result in board.scenarios(run).items():
        run.record(name, result)
