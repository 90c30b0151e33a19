"""Memory: the processor's RSS over a long stream (growth), and per patient (2k, 20k, 200k)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from . import child

_LAT = "vitalstream.bench.latency"
_STAGES = "vitalstream.bench.stages"
_ME = "vitalstream.bench.memory"


def growth(run: Any) -> None:
    """``memory``: RSS at one fifth of a long stream (after the dedup window has filled) and at
    its end; ``peak_rss_mb`` is the largest peak of any component of the run so far."""
    long_n = run.fit(run.plan.memory_events, run.rate("processor_embedded"), run.plan.memory_s,
                     min(run.plan.memory_events, 50_000))
    # the short point comes after the dedup window (100k ids) has filled, when possible
    short_n = max(long_n // 5, min(long_n // 2, 200_000))
    run.say(f"memory: processor over a {long_n:,}-event stream, RSS at {short_n:,} and at the end")
    res = child.run(f"{_LAT}:memory_run", log_url=run._sqlite("memory"), events=long_n, checkpoints=[short_n, long_n])
    at = res.get("rss_mb_at", {})
    short_rss, long_rss = at.get(str(short_n)), at.get(str(long_n))
    peaks = {k: v.get("peak_rss_mb") for k, v in run.results.items() if isinstance(v, dict) and v.get("peak_rss_mb")}
    for k, v in run.results.items():
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
    if long_n < run.plan.memory_events:
        out["scaled_from"] = run.plan.memory_events
    run.results["memory"] = out
    run.say(f"memory: {out['note']}")


def per_patient(run: Any) -> None:
    """``memory_per_patient``: for each patient count, smartwatch vitals covering every patient
    (at least one reading of each vital; at least ``plan.patient_events``, 200k, so the
    100k-id dedup window is full at every point and does not masquerade as per-patient memory) through the processor on
    the embedded log; its peak RSS and the bytes of its state changelog (latest value per key,
    what a restore reads). Per patient = the slope between the smallest and largest count."""
    points = []
    for patients in run.plan.patients:
        events = max(4 * patients, run.plan.patient_events)
        url = run._sqlite(f"patients-{patients}")
        run.say(f"memory per patient: {patients:,} patients, {events:,} events")
        prod = child.run(f"{_ME}:produce_patients", log_url=url, patients=patients, events=events)
        proc = child.run(f"{_STAGES}:process", log_url=url, events=events, expected=prod["records"])
        size = child.run(f"{_ME}:changelog_size", log_url=url)
        points.append({"patients": patients, "events": events, "processor_rss_mb": round(proc["peak_rss_mb"], 1),
                       "changelog_bytes": size["bytes"], "changelog_keys": size["keys"],
                       "events_per_s": round(proc["events_per_s"])})
    lo, hi = points[0], points[-1]
    span = hi["patients"] - lo["patients"]
    per = {"rss_kb": round((hi["processor_rss_mb"] - lo["processor_rss_mb"]) * 1024 / span, 2) if span else None,
           "changelog_bytes": round(hi["changelog_bytes"] / hi["patients"], 1)}
    run.record("memory_per_patient", {
        "events": sum(p["events"] for p in points), "events_per_s": None, "points": points, "per_patient": per,
        "peak_rss_mb": max(p["processor_rss_mb"] for p in points),
        "note": "; ".join(f"{p['patients']:,} patients: RSS {p['processor_rss_mb']:,.0f} MB, "
                          f"changelog {p['changelog_bytes'] / 2**20:,.1f} MiB" for p in points)
        + f"; per patient {per['rss_kb']} KB RSS, {per['changelog_bytes']} B changelog"})


# -- children ------------------------------------------------------------------------------------
def produce_patients(log_url: str, patients: int, events: int) -> dict[str, Any]:
    """Produce the smartwatch vitals of ``patients`` patients (each tick: every patient's four
    vitals), generated on the fly; reference records first."""
    from .. import topics as T
    from ..log import open_log
    from ..simulate import make
    from .inputs import recent_start

    log = open_log(log_url)
    T.ensure_all(log)
    sim = make("vitals", patients=patients, seed=5, start=recent_start())
    n_ref = 0
    with log.producer() as producer:
        for m in sim.reference():
            producer.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
            n_ref += 1
        producer.flush()
        t0 = time.time()
        for i, m in enumerate(itertools.islice(sim.events(), events), 1):
            producer.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
            if i % 20_000 == 0:
                producer.flush()
    log.close()
    return {"events": events, "records": events + n_ref, "wall_s": time.time() - t0}


def changelog_size(log_url: str) -> dict[str, Any]:
    """Bytes (key + value) of the latest record per key of the state changelog."""
    from .. import topics as T
    from ..log import open_log
    from ..processing.repartition import read_partitions

    log = open_log(log_url)
    try:
        n = len(log.describe_topic(T.ALERT_STATE).partitions)
        latest: dict[bytes, int] = {}
        for r in read_partitions(log, T.ALERT_STATE, set(range(n))):
            if r.key is None:
                continue
            if r.value is None:  # a tombstone: the key is gone after compaction
                latest.pop(r.key, None)
            else:
                latest[r.key] = len(r.key) + len(r.value)
    finally:
        log.close()
    return {"bytes": sum(latest.values()), "keys": len(latest)}
