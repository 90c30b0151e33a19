"""WorkerThreads: one failed worker stops its siblings and its error reaches the process."""

from __future__ import annotations

import threading

import pytest

from vitalstream.errors import TerminalError
from vitalstream.log.base import TopicSpec
from vitalstream.runtime import WorkerThreads
from vitalstream.testing import Faults, FaultySink, ListSink, memory_log


def test_a_failed_sink_stops_the_others_and_raises() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("in", partitions=1))
        with log.producer() as p:
            for i in range(10):
                p.send("in", b"%d" % i, key=b"k")
            p.flush()
        healthy = ListSink(["in"], group="healthy")
        broken = FaultySink(ListSink(["in"], group="broken"), Faults(at=1, error=TerminalError))
        stop = threading.Event()
        threads = WorkerThreads(log, [healthy, broken], stop, max_records=100, max_wait_s=0.05).start()
        with pytest.raises(TerminalError):
            threads.join(30)
        assert stop.is_set()  # the healthy sink was told to stop too
        assert not any(t.is_alive() for t in threads.threads)
        assert healthy.closed and broken.inner.closed
        assert not broken.inner.records  # the failed batch never reached the inner sink


def test_no_error_joins_quietly() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("in", partitions=1))
        sink = ListSink(["in"])
        stop = threading.Event()
        threads = WorkerThreads(log, [sink], stop, max_records=100, max_wait_s=0.05).start()
        stop.set()
        threads.join(30)
        assert sink.closed and not threads.errors


def test_metrics_series_are_created_once_by_racing_threads() -> None:
    """The sinks process's threads reach their first batch together; creating the Prometheus
    series twice raised DuplicateTimeseries and killed a sink. Raced in a fresh process (the
    series are process-global)."""
    import subprocess
    import sys

    code = """
import threading
from vitalstream import metrics
barrier = threading.Barrier(8)
errors = []
def first_batch():
    barrier.wait()
    try:
        metrics.batch("g", ["t"], 0.01)
    except BaseException as exc:
        errors.append(exc)
threads = [threading.Thread(target=first_batch) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join(10)
assert not errors and metrics._m, errors
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
