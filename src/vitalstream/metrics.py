"""Prometheus metrics for every component, in prometheus-client's multi-process mode.

Components are processes (``vitalstream up``), so each one writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (the supervisor sets it to ``<home>/metrics`` for its children
and empties it at start) and the dashboard's ``/metrics`` adds them up. Without the
``dashboard`` extra (no prometheus-client) every function here does nothing.

Series (all prefixed ``vitalstream_``): ``records_in_total{group,topic}`` and
``batch_seconds{group}`` from every consumer-group worker (:mod:`vitalstream.runtime`),
``dead_letters_total{stage}``, ``alerts_total{rule,severity,state}`` (alerts the dashboard
saw), ``http_requests_total{server,status}`` (the ingest edge and the dashboard). Topic sizes
and consumer lag are read from the log when scraped (:mod:`vitalstream.dashboard.metrics`).
"""

from __future__ import annotations

import collections
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ENV = "PROMETHEUS_MULTIPROC_DIR"
_m: dict[str, Any] | None = None
_lock = threading.Lock()  # the sinks process's threads create the series at their first batch


def _metrics() -> dict[str, Any]:
    global _m
    if _m is None:
        with _lock:
            if _m is None:
                _m = _create()
    return _m


def _create() -> dict[str, Any]:
    try:
        import prometheus_client as p
    except ImportError:
        return {}
    return {
        "records": p.Counter("vitalstream_records_in", "records a consumer group processed",
                             ["group", "topic"]),
        "batch": p.Histogram("vitalstream_batch_seconds", "time to process one batch durably",
                             ["group"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)),
        "dlq": p.Counter("vitalstream_dead_letters", "records sent to the dead letters", ["stage"]),
        "alerts": p.Counter("vitalstream_alerts", "alert transitions seen", ["rule", "severity", "state"]),
        "http": p.Counter("vitalstream_http_requests", "HTTP requests answered", ["server", "status"]),
    }


def start() -> None:
    """Create the series now (a worker calls this as it starts): the first batch then does not
    pay for importing prometheus-client (~50 ms) on top of its own work."""
    _metrics()


def batch(group: str, topics: Iterable[str], seconds: float) -> None:
    """One batch of records (``topics``: the topic of each record, read only when the metrics
    are on) processed in ``seconds``."""
    m = _metrics()
    if m:
        for topic, n in collections.Counter(topics).items():
            m["records"].labels(group, topic).inc(n)
        m["batch"].labels(group).observe(seconds)


def dead_letter(stage: str) -> None:
    m = _metrics()
    if m:
        m["dlq"].labels(stage).inc()


def alert(rule: str, severity: str, state: str) -> None:
    m = _metrics()
    if m:
        m["alerts"].labels(rule, severity, state).inc()


def http(server: str, status: int) -> None:
    m = _metrics()
    if m:
        m["http"].labels(server, str(status)).inc()


def prepare_dir(home: Path) -> str:
    """An empty ``<home>/metrics`` for a new run's processes (stale files would add old counts)."""
    d = home / "metrics"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, mode=0o700)
    return str(d)


def multiprocess() -> bool:
    return bool(os.environ.get(ENV))
