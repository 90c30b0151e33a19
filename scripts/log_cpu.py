"""CPU-µs per record on the message log's write and read paths, shaped like vitalstream's use.

    .venv/bin/python scripts/log_cpu.py                        # a fresh embedded log in a temp dir
    .venv/bin/python scripts/log_cpu.py --log-url kafka://127.0.0.1:59092 --records 60000

Steps (CPU of this process, so librdkafka's threads count on Kafka; run it 2-3 times on a
shared machine and compare like with like):

* ``send`` — ``Producer.send`` per record, a flush every 20,000 (the bench producer, sources);
* ``send_batch`` — the processor's shape: per micro-batch of 500 events, one ``send_batch``
  per output topic (five topics, one to five records per event), then one flush;
* ``read_backlog`` — one consumer reads the processor-shaped topics (30 partitions of small
  stored batches) and drops them, committing every poll (the log's consume-and-discard limit);
* ``read_head`` — a consumer keeping up: after each flush of 100 processor-shaped events, one
  poll and a commit (a sink at the head of the log).

Topics are private (``logcpu-<run>-*``) and deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid

from vitalstream.log import TopicSpec, open_log

EVENTS_PER_BATCH = 500


def _values(rnd: random.Random) -> list[bytes]:
    return [json.dumps({"event_id": f"ev-{rnd.getrandbits(64):x}", "patient_id": f"patient-{i % 2000:05d}",
                        "heart_rate": 70 + i % 50, "spo2": 97, "event_time": f"2026-11-30T10:00:{i % 60:02d}Z",
                        "data_type": "heart_rate", "age": 55, "device_id": f"dev-{i % 3000}"}).encode()
            for i in range(2000)]


def _batches(rnd: random.Random, topics: list[str], events: int, keys: list[bytes], values: list[bytes]) -> list:
    out = []
    for _ in range(max(1, events // EVENTS_PER_BATCH)):
        rows: dict[str, list] = {t: [] for t in topics}
        for j in range(min(events, EVENTS_PER_BATCH)):
            key = keys[rnd.randrange(len(keys))]
            for t in topics[: 1 + j % len(topics)]:
                rows[t].append((key, values[rnd.randrange(len(values))], 1_700_000_000_000 + j))
        out.append(rows)
    return out


def measure(log_url: str, records: int) -> dict[str, float]:
    """CPU-µs per record of each step (see the module doc)."""
    rnd = random.Random(1)
    keys = [f"patient-{i:05d}".encode() for i in range(2000)]
    values = _values(rnd)
    run = f"logcpu-{uuid.uuid4().hex[:8]}"
    raw, shaped, head = f"{run}-raw", [f"{run}-out-{i}" for i in range(5)], [f"{run}-head-{i}" for i in range(5)]
    log = open_log(log_url)
    for t in [raw, *shaped, *head]:
        log.create_topic(TopicSpec(t, partitions=6))
    cpu, res = time.process_time, {}
    try:
        with log.producer() as p:
            rows = [(keys[rnd.randrange(2000)], values[i % 2000], 1_700_000_000_000 + i) for i in range(records)]
            c0 = cpu()
            for i, (k, v, ts) in enumerate(rows, 1):
                p.send(raw, v, key=k, timestamp_ms=ts)
                if i % 20_000 == 0:
                    p.flush()
            p.flush()
            res["send"] = (cpu() - c0) / records * 1e6
            batches = _batches(rnd, shaped, records // 3, keys, values)
            n, c0 = 0, cpu()
            for per_topic in batches:
                for t, r in per_topic.items():
                    p.send_batch(t, r)
                    n += len(r)
                p.flush()
            res["send_batch"] = (cpu() - c0) / n * 1e6
        res["read_backlog"] = _read_backlog(log, shaped, f"{run}-backlog", n)
        res["read_head"] = _read_head(log, head, f"{run}-head", _batches(rnd, head, records // 3, keys, values))
    finally:
        for t in [raw, *shaped, *head]:
            log.delete_topic(t)
        log.close()
    return res


def _read_backlog(log, topics: list[str], group: str, expected: int) -> float:
    n, spent = 0, 0.0
    with log.consumer(group, topics) as c:
        deadline = time.monotonic() + 120
        while n < expected and time.monotonic() < deadline:
            got, cpu = _poll_commit(c, 5000, 0.2)
            n, spent = n + got, spent + cpu
    return spent / max(n, 1) * 1e6


def _read_head(log, topics: list[str], group: str, batches: list) -> float:
    n, spent = 0, 0.0
    with log.producer() as p, log.consumer(group, topics, auto_offset_reset="latest") as c:
        deadline = time.monotonic() + 30
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(timeout=0.1)
        for per_topic in batches:
            for t, r in per_topic.items():
                p.send_batch(t, r[: max(1, len(r) // 5)])  # 100 events' worth
            p.flush()
            got, cpu = _poll_commit(c, 20_000, 0.5)
            n, spent = n + got, spent + cpu
    return spent / max(n, 1) * 1e6


def _poll_commit(consumer, max_records: int, timeout: float) -> tuple[int, float]:
    """One poll and, when it returned records, a commit: (records, CPU seconds)."""
    c0 = time.process_time()
    got = consumer.poll(max_records=max_records, timeout=timeout)
    if got:
        consumer.commit()
    return len(got), time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log-url", help="default: a fresh embedded log in a temporary directory")
    ap.add_argument("--records", type=int, default=60_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        res = measure(args.log_url or f"sqlite:///{tmp}/log.db", args.records)
    print(" ".join(f"{k}={v:.2f}" for k, v in res.items()), "CPU-µs/record")


if __name__ == "__main__":
    main()
