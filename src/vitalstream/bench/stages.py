"""The measured steps, each run in its own process by :mod:`vitalstream.bench.child`.

Every function takes plain JSON-able arguments and returns a dict with at least ``events``,
``wall_s`` and ``events_per_s``; times that other processes compare against (first produce,
last commit) are wall-clock ``time.time()`` values, the same clock in every process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from .. import topics as T
from ..log import open_log
from ..log.base import Record, TopicPartition
from .child import RssSampler
from .inputs import load_inputs

_FLUSH_EVERY = 20_000


# -- the log: produce, consume-and-discard -------------------------------------------------------
def produce(log_url: str, inputs_path: str, rate: float | None = None, done_file: str | None = None) -> dict[str, Any]:
    """Send the reference records, then every event (flushing every 20k); ``rate`` paces it;
    touch ``done_file`` when all is stored (the split processor's first stage waits for it)."""
    inputs = load_inputs(inputs_path)
    log = open_log(log_url)
    T.ensure_all(log)
    producer = log.producer()
    try:
        send = producer.send
        for m in inputs.reference:
            send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
        producer.flush()
        t0 = time.time()
        for i, m in enumerate(inputs.events, 1):
            send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
            if i % _FLUSH_EVERY == 0:
                producer.flush()
                if rate:
                    _pace(t0, i, rate)
        producer.flush()
        t1 = time.time()
    finally:
        producer.close()
        log.close()
    if done_file:
        Path(done_file).touch()
    n = len(inputs.events)
    return {"events": n, "records": n + len(inputs.reference), "t_first": t0, "t_last": t1,
            "wall_s": t1 - t0, "events_per_s": n / (t1 - t0)}


def _pace(t0: float, sent: int, rate: float) -> None:
    ahead = t0 + sent / rate - time.time()
    if ahead > 0:
        time.sleep(ahead)


def consume_discard(log_url: str, topics: list[str], expected: int, group: str = "bench-discard",
                    max_records: int = 5000) -> dict[str, Any]:
    """Read ``expected`` records and drop them, committing after every poll (the log's limit)."""
    log = open_log(log_url)
    consumer = log.consumer(group, topics)
    n, t0 = 0, None
    try:
        deadline = time.monotonic() + 600
        while n < expected and time.monotonic() < deadline:
            batch = consumer.poll(max_records=max_records, timeout=0.5)
            if batch:
                t0 = t0 or time.time()
                n += len(batch)
                consumer.commit()
        t1 = time.time()
    finally:
        consumer.close()
        log.close()
    wall = t1 - (t0 or t1)
    return {"events": n, "wall_s": wall, "events_per_s": n / wall if wall else 0.0}


#: A sink's batch as ``vitalstream up`` and the dashboard poll it (supervise.py, dashboard/server.py)
SINK_MAX_RECORDS = 20_000


# -- the vitalstream processor ---------------------------------------------------------------------
class _Timed:
    """Wraps a Worker: notes when the first record arrived (the clock starts there), and per
    batch its size, the age of its oldest and newest record when processing started (record
    time → batch start: the producer's flush, the poll, the gathering and the queue behind the
    batch before) and how long ``process`` took: where a latency goes, stage by stage."""

    def __init__(self, worker: Any, ready_file: str | None = None) -> None:
        self.worker = worker
        self.ready_file = ready_file
        self.group = worker.group
        self.topics = worker.topics
        self.t_first: float | None = None
        self.batches: list[tuple[int, float, float, float]] = []  # (records, oldest ms, newest ms, process ms)

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self.worker.assigned(partitions)
        if self.ready_file and partitions:  # joined and state restored: ready for traffic
            Path(self.ready_file).touch()

    def process(self, records: list[Record]) -> None:
        now = time.time()
        if self.t_first is None:
            self.t_first = now
        self.worker.process(records)
        stamps = [r.timestamp_ms for r in records]
        self.batches.append((len(records), now * 1000 - min(stamps), now * 1000 - max(stamps),
                             (time.time() - now) * 1000))

    def batch_stages(self) -> dict[str, Any]:
        """Percentiles of batch size, record age at batch start and processing time."""
        from .stats import percentiles

        b = self.batches
        return {"batches": len(b), "size": percentiles([x[0] for x in b]),
                "oldest_age_ms": percentiles([x[1] for x in b]), "newest_age_ms": percentiles([x[2] for x in b]),
                "process_ms": percentiles([x[3] for x in b])}

    def close(self) -> None:
        self.worker.close()

    def __getattr__(self, name: str) -> Any:  # the worker's optional hooks: the lake's checkpoint
        return getattr(self.worker, name)


def _all_exist(done: str | list[str]) -> bool:
    return all(Path(f).exists() for f in ([done] if isinstance(done, str) else done))


def _run_until(log: Any, worker: Any, expected: int | None, done_file: str | list[str] | None,
               timeout_s: float, max_records: int = 5000,
               checkpoints: list[int] | None = None, ready_file: str | None = None,
               linger_s: float = 0.0, max_batch_s: float = 0.0) -> dict[str, Any]:
    """Drive ``worker`` until ``expected`` records are committed, or (with ``done_file``) until
    that file (or every file of a list) exists and the group has nothing left to read; then
    report timings."""
    from ..runtime import Health, run_worker

    stop = threading.Event()
    health = Health()
    timed = _Timed(worker, ready_file)

    def finished() -> bool:
        if expected is not None and health.records >= expected:
            return True
        if done_file is not None and _all_exist(done_file):
            return all(g.lag <= 0 for g in log.group_lag(worker.group, list(worker.topics)))
        return False

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while not stop.wait(0.05):
            if finished() or time.monotonic() > deadline:
                stop.set()

    threading.Thread(target=watch, daemon=True).start()
    with RssSampler(progress=lambda: health.records) as rss:
        run_worker(log, timed, stop, max_records=max_records, max_wait_s=0.05, health=health, linger_s=linger_s,
                   max_batch_s=max_batch_s)
    t0, t1 = timed.t_first or health.last_commit, health.last_commit
    out: dict[str, Any] = {
        "records": health.records, "t_first": t0, "t_last": t1, "wall_s": t1 - t0,
        "records_per_s": health.records / (t1 - t0) if t1 > t0 else 0.0, "batches": health.batches,
        "complete": expected is None or health.records >= expected, "batch_stages": timed.batch_stages(),
        "rss_mb_series": [(round(t, 2), done, round(r / 2**20, 1)) for t, done, r in rss.samples[::5]],
    }
    if checkpoints:
        out["rss_mb_at"] = {str(c): (r / 2**20 if (r := rss.rss_at(c)) else None) for c in checkpoints}
    return out


def process(log_url: str, events: int, expected: int | None = None, done_file: str | list[str] | None = None,
            signal_file: str | None = None, checkpoints: list[int] | None = None,
            max_records: int | None = None, timeout_s: float = 900.0, group: str | None = None,
            ready_file: str | None = None, fused: bool = True) -> dict[str, Any]:
    """Run the VitalsProcessor until ``expected`` records are committed (see :func:`_run_until`);
    touch ``signal_file`` when done, so the sinks downstream know nothing more is coming.
    ``fused=False``: the stateless stage only (its vitals go to the repartition topic, for
    :func:`score`). ``t_start`` (before the log is opened: reference tables, subscribe, join
    and the state restore count) and ``t_end`` (after the log is closed) are the peers' clock."""
    from ..processing import VitalsProcessor

    t_start = time.time()
    log = open_log(log_url)
    proc = VitalsProcessor(log, stop=threading.Event(), fused=fused)
    if group:  # a private group on a shared broker (positions set by kafkaraw.commit_ends)
        proc.group = group
    linger_s, max_batch_s = _batching()
    if max_records is None:
        from ..config import ProcessSettings

        max_records = ProcessSettings().max_batch  # as `vitalstream up` runs it
    out = _run_until(log, proc, expected, done_file, timeout_s, max_records, checkpoints, ready_file,
                     linger_s=linger_s, max_batch_s=max_batch_s)
    log.close()
    t_end = time.time()
    if signal_file:
        Path(signal_file).touch()
    out.update(events=events, events_per_s=events / out["wall_s"] if out["wall_s"] else 0.0,
               stats=dict(proc.stats), t_start=t_start, t_end=t_end)
    return out


def _batching() -> tuple[float, float]:
    """Batches gather and are capped as `vitalstream up` does it (process.linger_ms,
    process.max_batch_ms)."""
    from ..config import ProcessSettings

    s = ProcessSettings()
    return s.linger_ms / 1000, s.max_batch_ms / 1000


def score(log_url: str, done_file: str | list[str], group: str, signal_file: str | None = None,
          ready_file: str | None = None, timeout_s: float = 900.0) -> dict[str, Any]:
    """The stateful stage (alerts, NEWS2, state changelog) in a private group ``group``, until
    the stateless stage is done (``done_file``) and nothing is left to read."""
    from ..processing.stateful import ClinicalScorer

    t_start = time.time()
    log = open_log(log_url)
    scorer = ClinicalScorer(log, stop=threading.Event())
    scorer.group = group
    linger_s, max_batch_s = _batching()
    out = _run_until(log, scorer, None, done_file, timeout_s, ready_file=ready_file, linger_s=linger_s,
                     max_batch_s=max_batch_s)
    log.close()
    if signal_file:
        Path(signal_file).touch()
    out.update(stats=dict(scorer.stats), t_start=t_start, t_end=time.time())
    return out


def notes(log_url: str, events: int, timeout_s: float = 600.0) -> dict[str, Any]:
    """The notes stage alone over ``events`` simulated clinical notes (the vocabularies load
    before the clock starts); ``cpu_s`` is the process's CPU time while it ran."""
    import itertools

    from ..notes.extractor import shared_extractor
    from ..notes.stage import NotesStage
    from ..simulate import make

    shared_extractor()
    log = open_log(log_url)
    T.ensure_all(log)
    with log.producer() as p:
        for m in itertools.islice(make("notes", patients=500, seed=11).events(), events):
            p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
    stage = NotesStage(log, stop=threading.Event())
    cpu0 = time.process_time()
    out = _run_until(log, stage, events, None, timeout_s, max_records=2000)
    cpu = time.process_time() - cpu0
    log.close()
    out.update(events=events, events_per_s=events / out["wall_s"] if out["wall_s"] else 0.0,
               events_per_cpu_s=events / cpu if cpu else 0.0, stats=dict(stage.stats))
    return out


def sink(log_url: str, name: str, lake_url: str, warehouse_url: str, done_file: str,
         timeout_s: float = 900.0, group_prefix: str = "") -> dict[str, Any]:
    """Run the sink ``name`` (of :data:`vitalstream.sinks.SINKS`; ``"lake,landing"``: those
    sinks in one process, a thread each, as ``vitalstream up`` runs them) until the processor
    is done (``done_file``) and each sink's group has caught up."""
    from ..config import Settings
    from ..sinks import build_sinks

    log = open_log(log_url)
    settings = Settings(log_url=log_url, lake_url=lake_url, warehouse_url=warehouse_url)
    workers = build_sinks(log, settings, name.split(","))
    for worker in workers:
        if group_prefix:
            worker.group = group_prefix + worker.group
    if len(workers) == 1:
        out = _run_until(log, workers[0], None, done_file, timeout_s, max_records=SINK_MAX_RECORDS)
    else:
        out = _together(log, workers, done_file, timeout_s)
    log.close()
    out.update(name="+".join(type(w).__name__ for w in workers), group=",".join(w.group for w in workers))
    return out


def _together(log: Any, workers: list[Any], done_file: str, timeout_s: float) -> dict[str, Any]:
    """:func:`_run_until` of each worker on a thread of its own; one result: from the first
    record any of them took to the last commit of any, records summed."""
    results: list[dict[str, Any]] = []

    def drive(worker: Any) -> None:
        results.append(_run_until(log, worker, None, done_file, timeout_s, max_records=SINK_MAX_RECORDS))

    threads = [threading.Thread(target=drive, args=(w,), name=f"bench-{w.group}") for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(results) != len(workers):
        raise RuntimeError("a sink's thread failed (its traceback is above)")
    t0, t1 = min(r["t_first"] for r in results), max(r["t_last"] for r in results)
    records = sum(r["records"] for r in results)
    return {"records": records, "t_first": t0, "t_last": t1, "wall_s": t1 - t0,
            "records_per_s": records / (t1 - t0) if t1 > t0 else 0.0,
            "batches": sum(r["batches"] for r in results), "complete": all(r["complete"] for r in results),
            "parts": {w.group: {k: r[k] for k in ("records", "t_first", "t_last", "batches")}
                      for w, r in zip(workers, results, strict=True)}}


def prepare_sinks(broker: str, names: list[str], group_prefix: str, lake_url: str,
                  warehouse_url: str) -> dict[str, Any]:
    """Start the sinks' private groups (``group_prefix`` + their group) at the current end of
    the topics they read, so they read only this run's records on a shared broker."""
    from ..config import Settings
    from ..sinks import build_sinks
    from .kafkaraw import commit_ends

    url = f"kafka://{broker}"
    log = open_log(url)
    try:
        settings = Settings(log_url=url, lake_url=lake_url, warehouse_url=warehouse_url)
        for worker in build_sinks(log, settings, names):
            commit_ends(broker, group_prefix + worker.group, list(worker.topics))
            worker.close()
    finally:
        log.close()
    return {"groups": len(names)}


def prepare_kafka(broker: str, group: str, groups: list[str] | None = None) -> dict[str, Any]:
    """Create vitalstream's topics if missing and start ``group`` (and ``groups``) at their
    current end, so a run on a shared broker processes only the records it produces next; each
    group's scorer (``<group>-scorer``) starts at the end of the repartition topic."""
    from ..processing.processor import INPUT_TOPICS
    from .kafkaraw import commit_ends

    log = open_log(f"kafka://{broker}")
    try:
        T.ensure_all(log)
    finally:
        log.close()
    for g in [group, *(groups or [])]:
        commit_ends(broker, g, list(INPUT_TOPICS))
        commit_ends(broker, f"{g}-scorer", [T.REPARTITION_VITALS])
    return {"group": group}
