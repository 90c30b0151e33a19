"""Run the benchmark scenarios (docs/benchmarks.md) in one invocation, on the same inputs, and
collect one document.

Sizes come from a :class:`Plan` (full or ``--quick``). The full run aims at 10 minutes on a
2-core machine: where a scenario would not fit at the rate measured earlier in the same run,
its event count is scaled down and the JSON says so (``scaled_from``), rather than the bench
silently taking an hour.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import topics as T
from . import child, report
from .inputs import load_inputs, mixed_vitals, save_inputs, smartwatch_vitals
from .machine import describe_machine, package_version
from .services import KafkaService

logger = logging.getLogger(__name__)

SCENARIOS = ("limit", "e2e", "peers", "latency", "memory", "edges", "notes", "model", "dashboard", "sinks")
_NEEDS_MIXED = {"limit", "e2e", "memory"}  # the scenarios that read the pre-generated mixed vitals
_STAGES = "vitalstream.bench.stages"
_KRAW = "vitalstream.bench.kafkaraw"
_LAT = "vitalstream.bench.latency"


@dataclass(frozen=True)
class Plan:
    events: int = 1_000_000  # limit, processor alone, end-to-end
    peer_events: int = 200_000  # the peer comparison (smartwatch-vitals shape)
    latency_rate: float = 5_000.0
    latency_s: float = 30.0
    memory_events: int = 5_000_000  # the long run, compared with the rate at 1/5 of it
    # seconds the slow scenarios may take; their event counts scale down to fit (scaled_from)
    e2e_s: float = 60.0
    e2e_kafka_s: float = 40.0
    memory_s: float = 75.0
    model_events: int = 1_000_000  # heart-rate events under the warehouse model (issue 14)
    dashboard_patients: int = 1000  # patients on the board for the API latency (issue 15)
    dashboard_rate: float = 5_000.0  # events/s while the browser's DOM latency is measured
    dashboard_s: float = 30.0
    quick: bool = False


FULL = Plan()
QUICK = Plan(events=100_000, peer_events=20_000, latency_s=6.0, memory_events=500_000, e2e_s=8.0,
             e2e_kafka_s=5.0, memory_s=8.0, model_events=100_000, dashboard_s=8.0, quick=True)


class Run:
    def __init__(self, plan: Plan, scenarios: tuple[str, ...], kafka: bool = True,
                 progress: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.scenarios = scenarios
        self.kafka = kafka
        self.say = progress or (lambda msg: logger.info(msg))
        self.t0 = time.monotonic()
        self.work = Path(tempfile.mkdtemp(prefix="vitalstream-bench-"))
        self.results: dict[str, dict[str, Any]] = {}
        self.run_id = uuid.uuid4().hex[:8]

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def fit(wanted: int, rate: float | None, seconds: float, floor: int) -> int:
        """Events that take at most ``seconds`` at ``rate`` events/s (at least ``floor``)."""
        if not rate or seconds == float("inf"):
            return wanted
        return max(floor, min(wanted, int(rate * seconds)))

    def record(self, name: str, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
        result.pop("rss_mb_series", None)
        result.update(extra)
        self.results[name] = result
        self.say(f"{name}: {result.get('events_per_s', 0):,.0f} events/s")
        return result

    def failed(self, name: str, exc: BaseException) -> None:
        logger.warning("scenario %s failed: %s", name, exc)
        self.results[name] = {"events_per_s": None, "error": str(exc)[-500:], "note": "failed"}

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        load0 = os.getloadavg()
        try:
            if _NEEDS_MIXED & set(self.scenarios):
                self.say(f"generating {self.plan.events:,} mixed vitals")
                mixed = mixed_vitals(self.plan.events)
                self.mixed_path = str(self.work / "mixed.msgpack")
                save_inputs(mixed, self.mixed_path)
                self.mixed_records = len(mixed.reference) + len(mixed.events)
                self.mixed_topics = sorted(mixed.topics())
                del mixed
                self._guard("limit_embedded", self.limit_embedded)
            if "e2e" in self.scenarios:
                self._guard("e2e_embedded", self.e2e_embedded)
            with KafkaService(self.kafka) as kafka:
                self.kafka_note = kafka.note
                broker = kafka.broker
                if broker:
                    if "limit" in self.scenarios:
                        self._guard("limit_kafka", lambda: self.limit_kafka(broker))
                    if "peers" in self.scenarios:
                        self._guard("peers", lambda: self.peers(broker))
                    if "e2e" in self.scenarios:
                        self._guard("e2e_kafka", lambda: self.e2e_kafka(broker))
                    if "latency" in self.scenarios:
                        self._guard("latency_kafka", lambda: self.latency(f"kafka://{broker}", "latency_kafka"))
            if "latency" in self.scenarios:
                self._guard("latency_embedded", lambda: self.latency(self._sqlite("latency"), "latency_embedded"))
            if "memory" in self.scenarios:
                self._guard("memory", self.memory)
            if "edges" in self.scenarios:
                self._guard("edges", self.edges)
            if "notes" in self.scenarios:
                self._guard("notes_embedded", self.notes)
            if "model" in self.scenarios:
                self._guard("model", self.model)
            if "dashboard" in self.scenarios:
                self._guard("dashboard", self.dashboard)
            if "sinks" in self.scenarios:
                self._guard("sinks", self.sinks)
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
        doc: dict[str, Any] = {
            "date": started.strftime("%Y-%m-%d"), "started": started.isoformat(),
            "duration_s": round(time.monotonic() - self.t0, 1), "quick": self.plan.quick,
            "plan": self.plan.__dict__, "machine": describe_machine(load0),
            "kafka": getattr(self, "kafka_note", "not used"), "scenarios": self.results,
        }
        doc["ratios"] = report.ratios(self.results)
        doc["targets"] = report.targets(doc)
        return doc

    def _guard(self, name: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:  # one broken scenario must not lose the others' figures
            self.failed(name, exc)

    def _sqlite(self, name: str) -> str:
        return f"sqlite:///{self.work}/{name}.db"

    # -- 1. limit + processor alone, embedded ---------------------------------------------------
    def limit_embedded(self) -> None:
        url = self._sqlite("limit")
        self.say("embedded log: produce, consume-and-discard, then the processor alone")
        prod = child.run(f"{_STAGES}:produce", log_url=url, inputs_path=self.mixed_path)
        cons = child.run(f"{_STAGES}:consume_discard", log_url=url, topics=self.mixed_topics,
                         expected=self.plan.events)
        self.record("limit_embedded", cons, produce_events_per_s=prod["events_per_s"],
                    note=f"produce {prod['events_per_s']:,.0f}/s; consume-and-discard is the limit")
        n = self.plan.events
        proc = child.run(f"{_STAGES}:process", log_url=url, events=n, expected=self.mixed_records,
                         checkpoints=[self.mixed_records // 5, self.mixed_records])
        self.record("processor_embedded", proc, note="processor alone on the pre-loaded log")

    # -- 2. end to end, embedded -------------------------------------------------------------------
    def e2e_embedded(self) -> None:
        proc_rate = (self.results.get("processor_embedded") or {}).get("events_per_s")
        # the sinks share two cores with the processor: about a quarter of its solo rate
        n = self.fit(self.plan.events, proc_rate and proc_rate / 4, self.plan.e2e_s, 20_000)
        path = self.mixed_path
        if n < self.plan.events:
            path = str(self.work / "e2e.msgpack")
            save_inputs(mixed_vitals(n), path)
        self.say(f"embedded end to end: {n:,} events, producer + processor + lake + warehouse")
        url = self._sqlite("e2e")
        res = self._pipeline(url, path, n, lake=f"file://{self.work}/lake", warehouse=f"duckdb:///{self.work}/wh.duckdb")
        if n < self.plan.events:
            res["scaled_from"] = self.plan.events
        self.record("e2e_embedded", res)

    def _pipeline(self, url: str, inputs_path: str, n: int, lake: str | None, warehouse: str | None,
                  group: str | None = None, group_prefix: str = "",
                  sinks: tuple[str, ...] = ("lake", "landing", "warehouse")) -> dict[str, Any]:
        inputs = load_inputs(inputs_path)
        expected = len(inputs.reference) + len(inputs.events)
        del inputs
        _ensure_topics(url)  # before any child opens a consumer on them
        done = str(self.work / f"done-{uuid.uuid4().hex[:6]}")
        procs = {"produce": child.start(f"{_STAGES}:produce", log_url=url, inputs_path=inputs_path)}
        procs["process"] = child.start(f"{_STAGES}:process", log_url=url, events=n, expected=expected,
                                       signal_file=done, group=group)
        if lake and warehouse:
            for name in sinks:
                procs[name] = child.start(f"{_STAGES}:sink", log_url=url, name=name, lake_url=lake,
                                          warehouse_url=warehouse, done_file=done, group_prefix=group_prefix)
        res = {k: child.collect(p, timeout=1200) for k, p in procs.items()}
        t_first = res["produce"]["t_first"]
        t_last = max(r["t_last"] for r in res.values())
        stages = {}
        for k, r in res.items():
            rate = r.get("events_per_s") or r.get("records_per_s")
            stages[k] = {"records": r.get("records", r.get("events")), "per_s": rate,
                         "cpu_s": r["cpu_s"], "peak_rss_mb": r["peak_rss_mb"]}
        wall = t_last - t_first
        return {"events": n, "wall_s": wall, "events_per_s": n / wall if wall else 0.0, "stages": stages,
                "cpu_s": sum(r["cpu_s"] for r in res.values()),
                "peak_rss_mb": max(r["peak_rss_mb"] for k, r in res.items() if k != "produce"),
                "complete": all(r.get("complete", True) for r in res.values()),
                "note": ", ".join(f"{k} {v['per_s'] or 0:,.0f}/s" for k, v in stages.items())}

    # -- 1b. limit, Kafka -------------------------------------------------------------------------
    def limit_kafka(self, broker: str) -> None:
        prefix = f"bench-{self.run_id}-limit-"
        self.say("Kafka: produce and consume-and-discard with confluent-kafka")
        try:
            prod = child.run(f"{_KRAW}:produce", broker=broker, inputs_path=self.mixed_path, prefix=prefix)
            cons = child.run(f"{_KRAW}:consume_discard", broker=broker,
                             topics=[prefix + t for t in self.mixed_topics], expected=self.plan.events,
                             group=prefix + "discard")
        finally:
            child.run(f"{_KRAW}:delete_topics_result", broker=broker, prefix=prefix)
        self.record("limit_kafka", cons, produce_events_per_s=prod["events_per_s"],
                    note=f"produce {prod['events_per_s']:,.0f}/s; raw confluent-kafka")

    # -- 3. peers ------------------------------------------------------------------------------
    def peers(self, broker: str) -> None:
        import subprocess

        from .peers import transform

        n = self.plan.peer_events
        peer_inputs = smartwatch_vitals(n)
        path = str(self.work / "smartwatch-vitals.msgpack")
        save_inputs(peer_inputs, path)
        expected = len(peer_inputs.reference) + n
        del peer_inputs
        prefix = f"bench-{self.run_id}-peers-"
        outs = [prefix + o for _, o in transform.RAW_TOPICS.values()] + [prefix + transform.ALERTS_TOPIC,
                                                                          prefix + transform.DLQ_TOPIC]
        self.say(f"peers on Kafka: {n:,} smartwatch vitals for vitalstream, Quix Streams and per-message")
        try:
            child.run(f"{_KRAW}:produce", broker=broker, inputs_path=path, prefix=prefix)
            child.run(f"{_KRAW}:create_topics_result", broker=broker, names=outs)
            for name, script in (("peer_quix", "quix_app"), ("peer_per_message", "per_message")):
                try:
                    proc = subprocess.run(
                        [sys.executable, "-m", f"{__package__}.peers.{script}", "--broker", broker, "--prefix", prefix,
                         "--group", prefix + name, "--expected", str(n)],
                        capture_output=True, text=True, timeout=600)
                    line = next((ln for ln in reversed(proc.stdout.splitlines())
                                 if ln.startswith(child.RESULT_PREFIX)), None)
                    if line is None:
                        raise RuntimeError(proc.stderr[-800:])
                    import json

                    res = json.loads(line[len(child.RESULT_PREFIX):])
                    if name == "peer_per_message":
                        res["note"] = f"kafka-python, CRC-32C in {res.get('crc32c', '?')}" + (
                            " (install crc32c: this peer is handicapped)" if res.get("crc32c") != "c" else "")
                    else:
                        res["note"] = "Quix Streams " + package_version("quixstreams")
                    self.record(name, res)
                except Exception as exc:
                    self.failed(name, exc)
        finally:
            child.run(f"{_KRAW}:delete_topics_result", broker=broker, prefix=prefix)
        # vitalstream's processor on the same input and broker, with a private group.
        group = f"bench-{self.run_id}-processor"
        url = f"kafka://{broker}"
        try:
            child.run(f"{_STAGES}:prepare_kafka", broker=broker, group=group)
            child.run(f"{_STAGES}:produce", log_url=url, inputs_path=path)
            res = child.run(f"{_STAGES}:process", log_url=url, events=n, expected=expected, group=group)
            self.record("peer_vitalstream", res, note="VitalsProcessor on Kafka, same input as the peers")
        except Exception as exc:
            self.failed("peer_vitalstream", exc)
            url = self._sqlite("peers")
            child.run(f"{_STAGES}:produce", log_url=url, inputs_path=path)
            res = child.run(f"{_STAGES}:process", log_url=url, events=n, expected=expected)
            self.record("peer_vitalstream", res, note="on the EMBEDDED log (Kafka run failed)")

    # -- 2b. end to end on Kafka -------------------------------------------------------------
    def e2e_kafka(self, broker: str) -> None:
        proc_rate = (self.results.get("peer_vitalstream") or {}).get("events_per_s")
        n = self.fit(self.plan.events, proc_rate, self.plan.e2e_kafka_s, 20_000)
        path = self.mixed_path
        if n < self.plan.events:
            path = str(self.work / "e2e-kafka.msgpack")
            save_inputs(mixed_vitals(n), path)
        group = f"bench-{self.run_id}-e2e"
        self.say(f"Kafka end to end: {n:,} events, producer + one processor")
        child.run(f"{_STAGES}:prepare_kafka", broker=broker, group=group)
        res = self._pipeline(f"kafka://{broker}", path, n, None, None, group=group)
        proc = res["stages"]["process"]
        self.results["processor_kafka"] = {"events": n, "events_per_s": proc["per_s"], "cpu_s": proc["cpu_s"],
                                           "peak_rss_mb": proc["peak_rss_mb"],
                                           "note": "processor stage of e2e_kafka"}
        if n < self.plan.events:
            res["scaled_from"] = self.plan.events
        res["note"] = "producer + processor (sinks not included on Kafka); " + res["note"]
        self.record("e2e_kafka", res)

    # -- 4. latency ------------------------------------------------------------------------------
    def latency(self, url: str, name: str) -> None:
        self.say(f"{name}: {self.plan.latency_rate:,.0f} events/s for {self.plan.latency_s:.0f} s")
        group = f"bench-{self.run_id}-{name}"
        if url.startswith("kafka://"):
            child.run(f"{_STAGES}:prepare_kafka", broker=url[len("kafka://"):], group=group)
        res = child.run(f"{_LAT}:measure", log_url=url, rate=self.plan.latency_rate,
                        duration_s=self.plan.latency_s, group=group, work=str(self.work))
        self.record(name, res)

    # -- 6. memory ---------------------------------------------------------------------------------
    def memory(self) -> None:
        rate = (self.results.get("processor_embedded") or {}).get("events_per_s")
        long_n = self.fit(self.plan.memory_events, rate, self.plan.memory_s, min(self.plan.memory_events, 50_000))
        # the short point comes after the dedup window (100k ids) has filled, when possible
        short_n = max(long_n // 5, min(long_n // 2, 200_000))
        self.say(f"memory: processor over a {long_n:,}-event stream, RSS at {short_n:,} and at the end")
        res = child.run(f"{_LAT}:memory_run", log_url=self._sqlite("memory"), events=long_n,
                        checkpoints=[short_n, long_n])
        at = res.get("rss_mb_at", {})
        short_rss, long_rss = at.get(str(short_n)), at.get(str(long_n))
        peaks = {k: v.get("peak_rss_mb") for k, v in self.results.items() if isinstance(v, dict) and v.get("peak_rss_mb")}
        for k, v in self.results.items():
            for st, sv in (v.get("stages") or {}).items():
                peaks[f"{k}.{st}"] = sv.get("peak_rss_mb")
        peaks["memory.processor"] = res.get("peak_rss_mb")
        # the bench's own load generators hold the pre-generated inputs: not pipeline components
        peaks = {k: v for k, v in peaks.items() if not k.endswith(".produce") and not k.startswith("limit_")}
        out = {"short_events": short_n, "long_events": long_n, "rss_mb_short": short_rss,
               "rss_mb_long": long_rss, "growth_ratio": round(long_rss / short_rss, 3) if short_rss and long_rss else None,
               "events_per_s": res.get("events_per_s"), "peak_rss_mb": max(v for v in peaks.values() if v),
               "peak_rss_mb_by_component": peaks,
               "note": f"processor RSS {short_rss or 0:,.0f} MB at {short_n:,} -> {long_rss or 0:,.0f} MB at {long_n:,}"}
        if long_n < self.plan.memory_events:
            out["scaled_from"] = self.plan.memory_events
        self.results["memory"] = out
        self.say(f"memory: {out['note']}")

    # -- 5. edges -----------------------------------------------------------------------------------
    def edges(self) -> None:
        from . import edges as edge

        seconds = 3.0 if self.plan.quick else 5.0
        self.say("ingest edges: HTTP batched and single")
        with edge.server_process() as url:
            batched = edge.http_batched_rate(url, seconds=seconds)
            single = edge.http_single_rate(url, seconds=seconds)
        self.record("edge_http_batched", {"events_per_s": batched, "note": "POST /stream, 1000-event bodies"})
        self.record("edge_http_single", {"events_per_s": single, "note": "one event per request"})
        mqtt = os.environ.get("VITALSTREAM_TEST_MQTT")
        if mqtt:
            try:
                rate = edge.measure_bridge_rate(mqtt, seconds=seconds)
                self.record("edge_mqtt_qos1", {"events_per_s": rate, "note": "MQTT QoS 1 through the bridge"})
            except Exception as exc:
                self.failed("edge_mqtt_qos1", exc)

    # -- 6b. clinical notes ----------------------------------------------------------------------------
    def notes(self) -> None:
        n = 5_000 if self.plan.quick else 20_000
        self.say(f"notes stage: {n:,} simulated clinical notes, embedded log")
        out = child.run(f"{_STAGES}:notes", log_url=self._sqlite("notes"), events=n)
        self.record("notes_embedded", out, note=f"{out.get('events_per_cpu_s', 0):,.0f} notes per CPU-second "
                                               "(extraction: medspaCy ConText + vocabularies)")

    # -- 7. the warehouse model; 8. the dashboard (their own modules) -------------------------------
    def model(self) -> None:
        from . import model

        self.record("model", model.scenario(self))

    def dashboard(self) -> None:
        from . import dashboard

        for name, result in dashboard.scenarios(self).items():
            self.record(name, result)

    def sinks(self) -> None:  # sink_duckdb, sink_postgres, sink_lake: each sink alone (bench/sinks.py)
        from . import sinks

        self.results.update(sinks.scenarios(self))


def _ensure_topics(url: str) -> None:
    from ..log import open_log

    log = open_log(url)
    try:
        T.ensure_all(log)
    finally:
        log.close()


__all__ = ["FULL", "QUICK", "SCENARIOS", "Plan", "Run", "T"]
