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
