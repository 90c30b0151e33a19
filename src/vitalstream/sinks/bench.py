"""Sink throughput, for the benchmark harness: events per second into each destination.

    from vitalstream.sinks.bench import measure
    measure("duckdb", events=200_000)          # warehouse upserts, DuckDB file
    measure("parquet", events=200_000)         # lake archive, local Parquet
    measure("postgres", events=200_000, url="postgresql://...")

Records are prepared in memory first and fed to the sink's ``process`` in batches of
``batch`` (like the run loop does), so the figure is the sink's own cost, not the log's.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta

from .. import topics as T
from ..log.base import Record

T0 = datetime(2024, 4, 1, tzinfo=UTC)


def _records(events: int, topic: str, partitions: int = 6) -> list[Record]:
    out = []
    offsets = [0] * partitions
    for i in range(events):
        t = T0 + timedelta(milliseconds=i * 10)
        pid = f"patient-{i % 500:04d}"
        doc = {"event_id": f"00000000-0000-4000-8000-{i:012d}", "patient_id": pid, "source": "vitals",
               "event_time": t.isoformat().replace("+00:00", "Z"), "heart_rate": 40 + i % 120,
               "data_type": "heart_rate", "original_timestamp": t.isoformat(),
               "processed_timestamp": t.isoformat().replace("+00:00", "Z"), "age": 70, "gender": "female",
               "medical_history": "COPD", "emergency_contact": "someone +1-555-0100", "blood_type": "A+",
               "allergies": "none", "last_checkup_date": "2024-01-01"}
        p = i % partitions
        out.append(Record(topic, p, offsets[p], pid.encode(), json.dumps(doc).encode(), int(t.timestamp() * 1000)))
        offsets[p] += 1
    return out


def measure(kind: str, events: int = 200_000, batch: int = 5000, url: str | None = None) -> dict[str, float]:
    """Load ``events`` records into ``kind`` (duckdb | postgres | parquet | jsonl); returns
    ``{"events": n, "seconds": s, "events_per_s": r}``."""
    from .lake import LakeSink
    from .warehouse import WarehouseSink, open_warehouse

    with tempfile.TemporaryDirectory() as tmp:
        if kind in ("parquet", "jsonl"):
            records = _records(events, T.HEART_RATE)
            sink = LakeSink(url or f"file://{tmp}/lake?format={kind}", [T.HEART_RATE],
                            topic_id=lambda _: "bench")
        elif kind in ("duckdb", "postgres"):
            records = _records(events, T.PROCESSED_HEART_RATE)
            if kind == "duckdb":
                url = url or f"duckdb:///{tmp}/bench.duckdb"
            elif url is None:
                raise ValueError("postgres needs url=postgresql://...")
            wh = open_warehouse(url)
            wh.migrate()
            if kind == "postgres":
                wh.query("TRUNCATE processed_heart_rate_data")
            sink = WarehouseSink(wh)
        else:
            raise ValueError(f"unknown sink kind {kind!r}")
        start = time.perf_counter()
        for i in range(0, len(records), batch):
            sink.process(records[i:i + batch])
        seconds = time.perf_counter() - start
        sink.close()
    return {"events": float(events), "seconds": seconds, "events_per_s": events / seconds}


if __name__ == "__main__":  # pragma: no cover - manual run
    import os
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    for k in ("duckdb", "parquet", "jsonl"):
        print(k, measure(k, n))
    pg = os.environ.get("VITALSTREAM_TEST_POSTGRES")
    if pg:
        print("postgres", measure("postgres", n, url=pg))
