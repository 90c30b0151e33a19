"""How big each benchmark scenario is: the full run (about 15 minutes on 2 cores) and the
``--quick`` one (about 4 minutes; one run per peer instead of three: a smoke test of the
harness, not figures to quote)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    events: int = 1_000_000  # limit, processor alone, end-to-end
    peer_events: int = 100_000  # the peer comparison (smartwatch-vitals shape), per run
    repeats: int = 3  # each peer and calibration run, interleaved A B C A B C ...
    latency_rate: float = 5_000.0
    latency_rate_high: float = 20_000.0  # embedded only: alert p99 <= 100 ms here too (issue 17)
    latency_s: float = 20.0
    memory_events: int = 5_000_000  # the long run, compared with the rate at 1/5 of it
    patients: tuple[int, ...] = (2_000, 20_000, 200_000)  # memory per patient
    patient_events: int = 200_000  # at least this many events at each patient count (dedup window full)
    # seconds the slow scenarios may take; their event counts scale down to fit (scaled_from)
    e2e_s: float = 45.0
    e2e_kafka_s: float = 30.0
    memory_s: float = 45.0
    scaleout_workers: tuple[int, ...] = (1, 2, 3)  # processor workers per stage (split stages)
    scaleout_s: float = 15.0  # each throughput point of the scale-out curve
    scaleout_latency_s: float = 10.0  # each latency point (paced at latency_rate)
    model_events: int = 1_000_000  # heart-rate events under the warehouse model (issue 14)
    dashboard_patients: int = 1000  # patients on the board for the API latency (issue 15)
    dashboard_rate: float = 5_000.0  # events/s while the browser's DOM latency is measured
    dashboard_s: float = 30.0
    quick: bool = False


FULL = Plan()
QUICK = Plan(events=100_000, peer_events=20_000, repeats=1, latency_s=6.0, memory_events=500_000, e2e_s=8.0,
             e2e_kafka_s=5.0, memory_s=8.0, patients=(2_000, 20_000), patient_events=50_000, scaleout_workers=(1, 2),
             scaleout_s=4.0, scaleout_latency_s=4.0, model_events=100_000, dashboard_s=8.0, quick=True)
