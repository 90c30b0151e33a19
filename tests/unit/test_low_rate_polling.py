"""Cheap at low rates: micro-batches gather a trickle, an idle embedded member still sees
every new record and seek at once, and the NEWS2 latency of the bench is read from the
minute's last contributing reading."""

from __future__ import annotations

import threading
import time

from vitalstream.bench.latency import news2_latencies
from vitalstream.log import TopicSpec
from vitalstream.runtime import gather, run_worker
from vitalstream.testing import ListSink, memory_log


def test_gather_merges_a_trickle_into_one_batch() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("trickle", partitions=1))
        consumer = log.consumer("g", ["trickle"])
        stop = threading.Event()

        def trickle() -> None:
            with log.producer() as p:
                for i in range(5):
                    p.send("trickle", str(i).encode())
                    p.flush()
                    if stop.wait(0.02):
                        return

        t = threading.Thread(target=trickle)
        t.start()
        try:
            got = gather(consumer, max_records=100, max_wait_s=2.0, linger_s=1.0)
        finally:
            stop.set()
            t.join(5)
            consumer.close()
        assert [r.value for r in got] == [b"0", b"1", b"2", b"3", b"4"]


def test_gather_never_waits_with_a_full_batch_or_nothing() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("full", partitions=1))
        with log.producer() as p:
            for i in range(10):
                p.send("full", str(i).encode())
        consumer = log.consumer("g", ["full"])
        try:
            started = time.monotonic()
            assert len(gather(consumer, max_records=10, max_wait_s=2.0, linger_s=5.0)) == 10
            assert gather(consumer, max_records=10, max_wait_s=0.05, linger_s=5.0) == []
            assert time.monotonic() - started < 4.0  # neither call lingered its 5 s
        finally:
            consumer.close()


def test_sinks_linger_but_every_record_lands_once() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("vitals", partitions=2))
        sink = ListSink(["vitals"])
        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(log, sink, stop),
                                  kwargs={"max_wait_s": 0.05, "linger_s": 0.3})
        worker.start()
        try:
            with log.producer() as p:
                for i in range(30):
                    p.send("vitals", str(i).encode(), key=str(i % 3).encode())
                    p.flush()
                    time.sleep(0.01)
            deadline = time.monotonic() + 20
            while len(sink.records) < 30 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join(20)
        assert sorted(int(r.value) for r in sink.records) == list(range(30))
        assert len(sink.batches) < 30  # gathered, not one batch per flush
        assert not any(g.lag for g in log.group_lag(sink.group))


def test_idle_member_sees_other_writers_and_its_own_seeks() -> None:
    with memory_log() as log:
        log.create_topic(TopicSpec("quiet", partitions=1))
        consumer = log.consumer("g", ["quiet"])
        try:
            for _ in range(3):  # idle polls: the pause grows, the fetch is skipped
                assert consumer.poll(timeout=0.05) == []
            with log.producer() as p:  # another connection writes
                p.send("quiet", b"a")
            assert [r.value for r in consumer.poll(timeout=2.0)] == [b"a"]
            assert consumer.poll(timeout=0.05) == []
            consumer.seek_to_beginning()  # nobody else wrote: the seek alone must count
            assert [r.value for r in consumer.poll(timeout=0.05)] == [b"a"]
        finally:
            consumer.close()


def test_news2_latency_counts_from_the_minutes_last_contributing_reading() -> None:
    minute = 1_800_000_000_000 - 1_800_000_000_000 % 60_000
    sent = {"p1": [minute - 500, minute + 1_000, minute + 30_000, minute + 61_000]}
    scores = [
        (minute + 1_050.0, "p1", float(minute), float(minute + 1_020)),  # triggered by +1,000
        (minute + 30_040.0, "p1", float(minute), float(minute + 30_010)),  # by +30,000
        (minute + 61_200.0, "p1", float(minute), float(minute + 61_100)),  # late rescore: +30,000
        (minute + 10.0, "p2", float(minute), float(minute + 5)),  # nobody sent for p2: skipped
    ]
    assert news2_latencies(scores, sent) == [50.0, 40.0, 31_200.0]
