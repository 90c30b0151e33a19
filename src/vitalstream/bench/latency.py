"""Event-time-to-alert latency at a fixed offered load, and the long run for memory.

:func:`measure` (one child process) paces smartwatch vitals at ``rate`` events/s with
event time = send time (wall clock), runs the processor in its own process, and reads
``alerts`` and ``news2-scores`` from a third thread as a dashboard would. So every latency
covers the producer's flush, the log, the processor's micro-batch and its flush, and the
reader's poll:

* an alert: the wall time it was read minus its ``event_time``, the event time of the
  reading that raised it;
* a NEWS2 score: its ``event_time`` is the start of its minute, so instead the wall time it
  was read minus the event time of the minute's *last contributing reading*: the patient's
  newest NEWS2 input (heart rate, SpO2, blood pressure) sent in that minute no later than the
  score's ``computed_time``. A reading sent but not yet in the processor's batch can be
  taken for the trigger, so this errs low by at most the batch's gathering time.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from .. import topics as T
from ..log import open_log
from ..simulate import Outgoing, make
from . import child
from .stats import percentiles as percentiles  # re-exported: the dashboard scenario and tests use it from here

_NATURAL_PER_PATIENT = 4.0  # smartwatch-vitals readings per patient per second of event time


class _Output(msgspec.Struct):
    event_time: str
    patient_id: str = ""
    computed_time: str = ""


_decode = msgspec.json.Decoder(_Output).decode
_NEWS2_INPUTS = frozenset({T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE})  # of the smartwatch-vitals shape


def _ms(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() * 1000


def _reader(log_url: str, stop: threading.Event, alerts: list[float],
            scores: list[tuple[float, str, float, float]], since_ms: float, stored: list[float]) -> None:
    """Collect alert latencies, and NEWS2 scores as (read ms, patient, minute start ms,
    computed ms) for :func:`news2_latencies`, of readings from this run only (event time >=
    since): on a shared broker the processor may re-emit for patients whose state it restored."""
    log = open_log(log_url)
    consumer = log.consumer(f"bench-latency-reader-{uuid.uuid4().hex[:8]}", [T.ALERTS, T.NEWS2],
                            auto_offset_reset="latest")
    try:
        while not stop.is_set():
            batch = consumer.poll(max_records=5000, timeout=0.01)
            now = time.time() * 1000
            for r in batch:
                try:
                    doc = _decode(r.value)
                    event_ms = _ms(doc.event_time)
                    if r.topic == T.NEWS2:
                        if event_ms + 60_000 > since_ms:
                            scores.append((now, doc.patient_id, event_ms, _ms(doc.computed_time)))
                    elif event_ms >= since_ms:
                        alerts.append(now - event_ms)
                        stored.append(now - r.timestamp_ms)  # the alert's send → read
                except (msgspec.DecodeError, ValueError):
                    continue
    finally:
        consumer.close()
        log.close()


def news2_latencies(scores: list[tuple[float, str, float, float]], sent: dict[str, list[int]]) -> list[float]:
    """Read time minus the event time of each score's last contributing reading: the
    patient's newest NEWS2 input in the score's minute sent no later than ``computed_time``
    (``sent`` holds each patient's send times in order). Scores without one are skipped."""
    import bisect

    out = []
    for read_ms, patient, minute_ms, computed_ms in scores:
        times = sent.get(patient, [])
        i = bisect.bisect_right(times, min(computed_ms, minute_ms + 59_999.999)) - 1
        if i >= 0 and times[i] >= minute_ms:
            out.append(read_ms - times[i])
    return out


def _iso_ms(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def smooth_vitals(patients: int, seed: int, seconds: int) -> tuple[list[Outgoing], Callable[[int], Iterator[Outgoing]]]:
    """Smartwatch vitals at an even rate: the reference records, and ``paced(start_ms)``, the
    readings of ``seconds`` seconds from ``start_ms`` on. The simulator stamps every patient's
    readings on the same whole second, which would offer the load as one burst per second; real
    devices are not synchronised, so each patient keeps a fixed offset inside the second instead.

    The simulator's seconds are generated here, before the clock starts: generated on the fly,
    each second's batch (20,000 readings at 20k/s) stalled the paced producer for tens of ms at
    every second boundary, and those readings were sent late in a burst, which the latency then
    counted. Only the timestamp rewrite, a few µs per reading, stays in the paced loop."""
    from datetime import UTC, datetime

    sim = make("vitals", patients=patients, seed=seed, start=datetime.fromtimestamp(time.time() // 1, UTC))
    groups = [list(g) for _, g in itertools.islice(
        itertools.groupby(sim.events(), key=lambda m: m.timestamp_ms // 1000), seconds)]
    dec, enc = msgspec.json.Decoder(dict), msgspec.json.Encoder()

    def paced(start_ms: int) -> Iterator[Outgoing]:
        for i, batch in enumerate(groups):
            base = start_ms + i * 1000
            for k, m in enumerate(batch):
                ts = base + k * 1000 // len(batch)
                doc = dec.decode(m.value)
                doc["timestamp"] = _iso_ms(ts)
                yield Outgoing(m.topic, m.key, enc.encode(doc), ts)

    return sim.reference(), paced


def measure(log_url: str, rate: float, duration_s: float, group: str, work: str,
            processor: str = "vitalstream.bench.stages:process",
            processor_args: dict[str, Any] | None = None) -> dict[str, Any]:
    """``processor`` (``module:function``, run as a child) is what is measured: one fused
    processor by default, or e.g. ``vitalstream.bench.pipeline:workers`` (the split stages)."""
    log = open_log(log_url)
    T.ensure_all(log)
    done = Path(work) / f"latency-done-{uuid.uuid4().hex[:6]}"
    ready = Path(work) / f"latency-ready-{uuid.uuid4().hex[:6]}"
    t_start = time.monotonic()
    proc = child.start(processor, log_url=log_url, events=0, done_file=str(done),
                       group=group, ready_file=str(ready), **(processor_args or {}))
    patients = max(1, round(rate / _NATURAL_PER_PATIENT))
    alerts: list[float] = []
    scores: list[tuple[float, str, float, float]] = []
    sent_at: dict[str, list[int]] = {}  # patient -> send (= event) times of NEWS2 inputs
    stop = threading.Event()
    # Steady state, not start-up: the clock starts once the processor has joined its group and
    # restored its state (on a shared broker the state changelog can take seconds to read).
    while not ready.exists() and time.monotonic() - t_start < 120 and proc.poll() is None:
        time.sleep(0.05)
    ready_after_s = time.monotonic() - t_start
    reference, paced = smooth_vitals(patients, seed=11, seconds=math.ceil(duration_s) + 1)
    start_ms = int(time.time() * 1000) + 1000
    stored: list[float] = []
    reader = threading.Thread(target=_reader, args=(log_url, stop, alerts, scores, start_ms, stored), daemon=True)
    reader.start()
    producer = log.producer()
    stream = paced(start_ms)
    for m in reference:  # reference records first
        producer.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
    producer.flush()
    # the processor joins its group and restores state during the 3 s before the first event
    sent, t0 = 0, None
    oldest: int | None = None  # event time of the oldest reading not yet flushed
    flushes: list[tuple[float, float]] = []  # (oldest reading's age when its flush ended, flush ms)
    for m in stream:
        now = time.time() * 1000
        if m.timestamp_ms > now:  # next reading is in the future: make what we have visible
            producer.flush()
            if oldest is not None:
                done_ms = time.time() * 1000
                flushes.append((done_ms - oldest, done_ms - now))
                oldest = None
            time.sleep(max(0.005, (m.timestamp_ms - now) / 1000))
        t0 = t0 or time.time()
        oldest = oldest or m.timestamp_ms
        producer.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
        if m.topic in _NEWS2_INPUTS and m.key is not None:
            sent_at.setdefault(m.key.decode(), []).append(m.timestamp_ms)
        sent += 1
        if time.time() - t0 >= duration_s:
            break
    producer.flush()
    t1 = time.time()
    if t0 is None:
        raise RuntimeError("the latency run had no input events to send")
    producer.close()
    done.touch()
    result = child.collect(proc, timeout=300)
    time.sleep(0.5)
    stop.set()
    reader.join(10)
    log.close()
    news2 = news2_latencies(scores, sent_at)
    out: dict[str, Any] = {"events": sent, "offered_per_s": sent / (t1 - t0), "events_per_s": sent / (t1 - t0),
                           "rate": rate, "alerts": len(alerts), "news2_scores": len(news2),
                           "processor_ready_after_s": round(ready_after_s, 2),
                           "processor_cpu_s": result.get("cpu_s"), "peak_rss_mb": result.get("peak_rss_mb")}
    out.update(percentiles(alerts))
    out["news2"] = percentiles(news2)
    # where the time goes: event time → stored (producer), batch start (processor side), the
    # batch's processing, and the alert's own send → read (its flush and the reader's poll)
    out["stages"] = {"produce_flush_age_ms": percentiles([f[0] for f in flushes]),
                     "produce_flush_ms": percentiles([f[1] for f in flushes]),
                     "alert_send_to_read_ms": percentiles(stored),
                     "processor": result.get("batch_stages")}
    out["note"] = (f"{len(alerts)} alerts; NEWS2 p99 {out['news2']['p99_ms']} ms over {len(news2)} scores"
                   if alerts else f"no alerts raised; NEWS2 p99 {out['news2']['p99_ms']} ms")
    if not alerts and news2:  # fall back to the NEWS2 path, which runs through the same engine
        out.update({k: v for k, v in out["news2"].items()})
    return out


def produce_stream(log_url: str, events: int, patients: int = 2000, seed: int = 7) -> dict[str, Any]:
    """Generate and produce ``events`` mixed vitals on the fly (no list in memory)."""
    import heapq

    from .inputs import VITALS_PROFILES, recent_start

    log = open_log(log_url)
    T.ensure_all(log)
    start = recent_start()
    per = patients // len(VITALS_PROFILES)
    sims = [make(p, patients=per, seed=seed + i, start=start) for i, p in enumerate(VITALS_PROFILES)]
    producer = log.producer()
    n_ref = 0
    for sim in sims:
        for m in sim.reference():
            producer.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
            n_ref += 1
    producer.flush()
    t0 = time.time()
    stream = heapq.merge(*(s.events() for s in sims), key=lambda m: m.timestamp_ms)
    for i, m in enumerate(itertools.islice(stream, events), 1):
        producer.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
        if i % 20_000 == 0:
            producer.flush()
    producer.close()
    t1 = time.time()
    log.close()
    return {"events": events, "records": events + n_ref, "t_first": t0, "t_last": t1,
            "events_per_s": events / (t1 - t0)}


def memory_run(log_url: str, events: int, checkpoints: list[int]) -> dict[str, Any]:
    """The processor over a stream produced concurrently; RSS at each checkpoint (events)."""
    log = open_log(log_url)
    T.ensure_all(log)  # before either child opens the topics
    log.close()
    prod = child.start("vitalstream.bench.latency:produce_stream", log_url=log_url, events=events)
    # reference records are ~1,500: count checkpoints in records, close enough to events
    proc = child.start("vitalstream.bench.stages:process", log_url=log_url, events=events,
                       expected=events + 1_523, checkpoints=checkpoints)
    p = child.collect(prod, timeout=3600)
    r = child.collect(proc, timeout=3600)
    return {"events": events, "events_per_s": r.get("events_per_s"), "rss_mb_at": r.get("rss_mb_at", {}),
            "peak_rss_mb": r.get("peak_rss_mb"), "producer_peak_rss_mb": p.get("peak_rss_mb"),
            "complete": r.get("complete")}
