"""Throughput of AlertEngine.observe_batch (not a test; run it by hand, side by side).

    .venv/bin/python tests/unit/clinical/bench_clinical.py

Vitals are pre-built (decoding is not measured). 1,000 patients, 5,000-vital batches, best of
five runs in CPU time of this process. ``single``: seed-0 shaped vitals with one metric each
(heart rate, SpO2, blood pressure, fall); ``combined``: seed-1 shaped readings with five
metrics. The no-alert path uses normal values; ``alerting`` makes 10 % of patients hypoxic.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from vitalstream.clinical import AlertEngine, EngineConfig, ManualClock
from vitalstream.events.canonical import Vital

PATIENTS = 1000
BATCH = 5000


def make(n: int, kind: str, hypoxic: float = 0.0) -> list[Vital]:
    rnd = random.Random(1)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        p = i % PATIENTS
        low = p < PATIENTS * hypoxic
        spo2 = rnd.randint(82, 89) if low else rnd.randint(93, 99)
        if kind == "single":
            fields: dict[str, object] = [
                {"heart_rate": rnd.randint(62, 95)},
                {"spo2": spo2},
                {"systolic": rnd.randint(100, 160), "diastolic": rnd.randint(60, 100)},
                {"fall_detected": False},
            ][(i // PATIENTS) % 4]
        else:
            fields = {"heart_rate": rnd.randint(62, 95), "spo2": spo2,
                      "systolic": rnd.randint(100, 160), "diastolic": rnd.randint(60, 100),
                      "temperature_c": round(rnd.uniform(36.2, 37.5), 1)}
        out.append(Vital(event_id=f"e{i}", patient_id=f"p{p}", source="vitals",
                         event_time=t0 + timedelta(seconds=i // PATIENTS), **fields))
    return out


def measure(vitals: list[Vital], news2: bool, runs: int = 5) -> tuple[float, float, int, int]:
    best_observe = best_total = 0.0
    for _ in range(runs):
        engine = AlertEngine(EngineConfig(news2=news2), ManualClock())
        observe = total = 0.0
        alerts = scores = 0
        for j in range(0, len(vitals), BATCH):
            batch = vitals[j : j + BATCH]
            t0 = time.process_time()
            alerts += len(engine.observe_batch(batch))
            t1 = time.process_time()
            scores += len(engine.take_scores())
            t2 = time.process_time()
            engine.clear_dirty()
            observe += t1 - t0
            total += t2 - t0
        best_observe = max(best_observe, len(vitals) / observe)
        best_total = max(best_total, len(vitals) / total)
    return best_observe, best_total, alerts, scores


def main() -> None:
    print(f"{'workload':20s} {'news2':5s} {'observe_batch':>14s} {'+take_scores':>14s} "
          f"{'alerts':>7s} {'scores':>7s}")
    for name, kind, hypoxic in [("single no-alert", "single", 0.0),
                                ("combined no-alert", "combined", 0.0),
                                ("single alerting", "single", 0.1)]:
        vitals = make(300_000, kind, hypoxic)
        for news2 in (False, True):
            obs, tot, alerts, scores = measure(vitals, news2)
            print(f"{name:20s} {news2!s:5s} {obs / 1e3:11.0f}k/s {tot / 1e3:11.0f}k/s "
                  f"{alerts:7d} {scores:7d}")


if __name__ == "__main__":
    main()
