"""Run the benchmark scenarios (docs/benchmarks.md) in one invocation, on the same inputs, and
collect one document.

Each scenario is a function taking the :class:`Run` (``module:function`` in :data:`SCENARIOS`,
in run order): adding one is one line there. The function measures, then calls
:meth:`Run.record` for each figure it produced. Sizes come from a :class:`~.plan.Plan` (full or
``--quick``); where a scenario would not fit its time budget at the rate measured earlier in
the same run, its event count is scaled down and the JSON says so (``scaled_from``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import topics as T
from ..registry import load
from . import report
from .inputs import mixed_vitals, save_inputs
from .machine import describe_machine
from .plan import FULL, QUICK, Plan
from .services import KafkaService

logger = logging.getLogger(__name__)

_B = "vitalstream.bench"
# name -> the function that runs it, in run order. One line adds a scenario.
SCENARIOS: dict[str, str] = {
    "limit": f"{_B}.logs:limit",  # limit_embedded, processor_embedded, limit_kafka
    "e2e": f"{_B}.e2e:e2e",  # e2e_embedded; e2e_kafka + processor_kafka (with the sinks)
    "calibration": f"{_B}.peers.scenario:calibration",  # calibration_quix_filter
    "peers": f"{_B}.peers.scenario:peers",  # peer_vitalstream, peer_quix, peer_ck_loop, peer_per_message
    "scaleout": f"{_B}.e2e:scaleout",  # scaleout_kafka: 1, 2, 3 processor workers
    "latency": f"{_B}.product:latency",  # latency_kafka, latency_embedded
    "memory": f"{_B}.memory:growth",  # memory
    "patients": f"{_B}.memory:per_patient",  # memory_per_patient
    "edges": f"{_B}.product:edges",
    "notes": f"{_B}.product:notes",  # notes_embedded
    "model": f"{_B}.product:model",
    "dashboard": f"{_B}.product:dashboard",  # dashboard_api, dashboard_dom
    "sinks": f"{_B}.sinks:run",  # sink_duckdb, sink_postgres, sink_lake, sink_landing: each sink alone
    "lowrate": f"{_B}.lowrate:run",  # demo_rate, idle
}
NEEDS_MIXED = {"limit", "e2e", "memory"}  # the scenarios that read the pre-generated mixed vitals


class Run:
    """One benchmark invocation: the plan, the scratch directory, the broker, the results."""

    def __init__(self, plan: Plan, scenarios: Iterable[str], kafka: bool = True,
                 progress: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.scenarios = tuple(scenarios)
        self.kafka = kafka
        self.say = progress or (lambda msg: logger.info(msg))
        self.t0 = time.monotonic()
        self.work = Path(tempfile.mkdtemp(prefix="vitalstream-bench-"))
        self.results: dict[str, dict[str, Any]] = {}
        self.run_id = uuid.uuid4().hex[:8]
        self.broker: str | None = None
        self.kafka_note = "not used"
        self.mixed_path = ""
        self.mixed_records = 0
        self.mixed_topics: list[str] = []
        self.peer_inputs: dict[str, Any] = {}  # the peers' input, shared by calibration and peers

    # -- helpers for the scenarios ---------------------------------------------------------------
    @staticmethod
    def fit(wanted: int, rate: float | None, seconds: float, floor: int) -> int:
        """Events that take at most ``seconds`` at ``rate`` events/s (at least ``floor``)."""
        if not rate or seconds == float("inf"):
            return wanted
        return max(floor, min(wanted, int(rate * seconds)))

    def rate(self, name: str) -> float | None:
        """``events_per_s`` of a scenario measured earlier in this run, if any."""
        return (self.results.get(name) or {}).get("events_per_s")

    def record(self, name: str, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
        result.pop("rss_mb_series", None)
        result.update(extra)
        self.results[name] = result
        self.say(f"{name}: {result.get('events_per_s') or 0:,.0f} events/s")
        return result

    def failed(self, name: str, exc: BaseException) -> None:
        logger.warning("scenario %s failed: %s", name, exc)
        self.results[name] = {"events_per_s": None, "error": str(exc)[-500:], "note": "failed"}

    def skipped(self, name: str, why: str) -> None:
        self.results[name] = {"events_per_s": None, "note": f"skipped: {why}"}

    def _sqlite(self, name: str) -> str:
        return f"sqlite:///{self.work}/{name}.db"

    def _pipeline(self, url: str, inputs_path: str, n: int, lake: str | None, warehouse: str | None,
                  **kw: Any) -> dict[str, Any]:
        from .pipeline import run_pipeline

        return run_pipeline(self, url, inputs_path, n, lake, warehouse, **kw)

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        load0 = os.getloadavg()
        try:
            with KafkaService(self.kafka) as kafka:
                self.kafka_note, self.broker = kafka.note, kafka.broker
                if NEEDS_MIXED & set(self.scenarios):
                    self._mixed_inputs()
                for name in (n for n in SCENARIOS if n in self.scenarios):
                    self._guard(name, self._scenario(name))
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
        doc: dict[str, Any] = {
            "date": started.strftime("%Y-%m-%d"), "started": started.isoformat(),
            "duration_s": round(time.monotonic() - self.t0, 1), "quick": self.plan.quick,
            "plan": self.plan.__dict__, "machine": describe_machine(load0),
            "kafka": self.kafka_note, "scenarios": self.results,
        }
        doc["ratios"] = report.ratios(self.results)
        doc["targets"] = report.targets(doc)
        return doc

    def _mixed_inputs(self) -> None:
        self.say(f"generating {self.plan.events:,} mixed vitals")
        mixed = mixed_vitals(self.plan.events)
        self.mixed_path = str(self.work / "mixed.msgpack")
        save_inputs(mixed, self.mixed_path)
        self.mixed_records = len(mixed.reference) + len(mixed.events)
        self.mixed_topics = sorted(mixed.topics())

    def _scenario(self, name: str) -> Callable[[], object]:
        fn = load(SCENARIOS[name], None)
        return lambda: fn(self)

    def _guard(self, name: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:  # one broken scenario must not lose the others' figures
            self.failed(name, exc)


__all__ = ["FULL", "QUICK", "SCENARIOS", "Plan", "Run", "T"]
