"""Batches sized for latency: capped by processing time while the worker keeps up, doubling
back to ``max_records`` while it is behind, and no lingering once a poll found plenty."""

from __future__ import annotations

import threading
import time

from vitalstream.log import TopicSpec
from vitalstream.runtime import BatchSizer, gather, run_worker
from vitalstream.testing import ListSink, memory_log


def test_the_cap_follows_the_time_per_record() -> None:
    sizer = BatchSizer(max_records=5000, max_batch_s=0.02)
    assert sizer.limit() == 5000  # nothing timed yet
    sizer.took(1000, 0.02, full=False)  # 20 µs per record
    assert sizer.limit() == 1000
    for _ in range(20):
        sizer.took(1000, 0.04, full=False)  # a busier core: 40 µs per record
    assert 500 <= sizer.limit() < 520
    for _ in range(20):
        sizer.took(1000, 10.0, full=False)  # absurdly slow: never below the floor
    assert sizer.limit() == 200


def test_a_tiny_batch_barely_moves_the_estimate() -> None:
    sizer = BatchSizer(max_records=5000, max_batch_s=0.02)
    sizer.took(1000, 0.02, full=False)
    sizer.took(2, 0.005, full=False)  # 2.5 ms per record, but it is mostly fixed costs
    assert sizer.limit() >= 700  # not 8 (20 ms at 2.5 ms per record)


def test_behind_the_cap_doubles_up_to_max_records_and_resets() -> None:
    sizer = BatchSizer(max_records=5000, max_batch_s=0.02)
    sizer.took(1000, 0.02, full=True)
    assert sizer.limit() == 2000
    sizer.took(2000, 0.04, full=True)
    assert sizer.limit() == 4000
    sizer.took(4000, 0.08, full=True)
    assert sizer.limit() == 5000
    sizer.took(300, 0.006, full=False)  # caught up
    assert sizer.limit() == 1000


def test_no_cap_without_a_time_budget() -> None:
    sizer = BatchSizer(max_records=5000, max_batch_s=0.0)
    sizer.took(10, 10.0, full=False)
    assert sizer.limit() == 5000 and sizer.enough is None


def test_a_poll_with_enough_records_does_not_linger() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("busy", partitions=1))
        with log.producer() as p:
            for i in range(300):
                p.send("busy", str(i).encode())
        consumer = log.consumer("g", ["busy"])
        try:
            started = time.monotonic()
            got = gather(consumer, max_records=1000, max_wait_s=2.0, linger_s=5.0, enough=200)
            assert len(got) == 300
            assert time.monotonic() - started < 2.0  # did not linger its 5 s
        finally:
            consumer.close()


def test_a_capped_worker_still_delivers_every_record_once() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("vitals", partitions=3))
        with log.producer() as p:
            for i in range(3000):
                p.send("vitals", str(i).encode(), key=str(i % 50).encode())
        sink = ListSink(["vitals"])
        stop = threading.Event()

        def watch() -> None:
            deadline = time.monotonic() + 20
            while not stop.wait(0.02):
                if len(sink.records) >= 3000 or time.monotonic() > deadline:
                    stop.set()

        threading.Thread(target=watch, daemon=True).start()
        run_worker(log, sink, stop, max_records=1000, max_wait_s=0.02, linger_s=0.01, max_batch_s=0.001)
        values = sorted(int(r.value) for r in sink.records)
        assert values == list(range(3000))
        assert len(sink.batches) > 1
