"""The test kit (``vitalstream.testing``) and, through it, the worker loop's retry paths."""

from __future__ import annotations

import threading

import pytest

from vitalstream import topics as T
from vitalstream.clinical import clock
from vitalstream.deadletter import DeadLetter
from vitalstream.errors import LogUnavailable, TerminalError
from vitalstream.log import TopicSpec
from vitalstream.runtime import Health, run_worker
from vitalstream.testing import (
    Faults,
    FaultyLog,
    FaultySink,
    ListProducer,
    ListSink,
    ManualClock,
    TestingSource,
    faultpoint,
    memory_log,
    read_topic,
)


@pytest.fixture
def log():
    with memory_log() as lg:
        yield lg


def _fill(log, topic: str, n: int, per_flush: int) -> None:
    log.create_topic(TopicSpec(topic, partitions=2))
    with log.producer() as p:
        for i in range(n):
            p.send(topic, f"v{i}".encode(), key=f"k{i % 7}".encode())
            if (i + 1) % per_flush == 0:
                p.flush()


def test_faults_schedule() -> None:
    once, twice, forever = Faults(at=2), Faults(at=2, times=2), Faults(at=2, times=None)
    outcome = {}
    for name, f in (("once", once), ("twice", twice), ("forever", forever)):
        got = []
        for _ in range(5):
            try:
                f.check(3)
                got.append("ok")
            except LogUnavailable:
                got.append("fail")
        outcome[name] = got
    assert outcome == {"once": ["ok", "fail", "ok", "ok", "ok"],
                       "twice": ["ok", "fail", "fail", "ok", "ok"],
                       "forever": ["ok", "fail", "fail", "fail", "fail"]}
    assert (forever.calls, forever.failed, forever.refused) == (5, 4, 12)
    never = Faults(at=None, error=TerminalError)
    never.check()
    with never.outage(), pytest.raises(TerminalError, match="injected fault"):
        never.check()
    never.check()
    assert never.failed == 1
    with pytest.raises(ValueError):
        Faults(at=0)


def test_a_transient_sink_fault_retries_the_same_batch_and_skips_nothing(log) -> None:
    _fill(log, "in", 300, per_flush=100)
    sink = FaultySink(ListSink(["in"], group="g-retry"), Faults(at=2, times=2))
    health = run_worker(log, sink, threading.Event(), max_records=100, until_idle=True)
    inner = sink.inner
    assert isinstance(inner, ListSink)
    assert sink.faults.failed == 2 and sink.faults.refused > 0
    assert sorted(r.value for r in inner.records) == sorted(f"v{i}".encode() for i in range(300))
    assert health.healthy and health.records == 300 and "injected fault" in health.last_error
    assert inner.closed and inner.owned == {("in", 0), ("in", 1)}
    assert all(g.lag == 0 for g in log.group_lag("g-retry", ["in"]))


def test_a_terminal_sink_fault_stops_the_worker_without_committing(log) -> None:
    _fill(log, "in", 50, per_flush=50)
    sink = FaultySink(ListSink(["in"], group="g-stop"), Faults(at=1, error=TerminalError))
    with pytest.raises(TerminalError):
        run_worker(log, sink, threading.Event(), until_idle=True, health=Health())
    assert sink.faults.calls == 1 and sink.inner.closed
    assert [g.committed for g in log.group_lag("g-stop", ["in"])] == [None, None]


def test_faulty_log_refuses_flushes_on_schedule(log) -> None:
    log.create_topic(TopicSpec("t", partitions=1))
    faulty = FaultyLog(log, Faults(at=2), close_inner=False)
    p = faulty.producer()
    p.send("t", b"a")
    p.flush()
    p.send("t", b"b")
    with pytest.raises(LogUnavailable):
        p.flush()
    assert [r.value for r in read_topic(log, "t")] == [b"a"]  # nothing of the failed flush
    p.flush()  # a retry on the same producer stores the buffer, as a real producer would
    assert [r.value for r in read_topic(faulty, "t")] == [b"a", b"b"]
    assert faulty.faults.refused == 1


def test_testing_source_writes_messages_and_dead_letters_bad_input(log) -> None:
    good = TestingSource.simulated("vitals", events=40, patients=3, batch_size=16)
    result = good.run(log, partitions=2)
    assert result.accepted == len(good.items) and result.rejected == 0
    assert len(read_topic(log, T.PATIENT_METADATA)) == 3
    bad = TestingSource([b"not json", b'{"deviceId": "d-1"}'])
    assert bad.run(log).rejected == 2
    letters = [DeadLetter.from_record(r) for r in read_topic(log, T.DEAD_LETTERS)]
    assert {d.stage for d in letters} == {"ingest.testing"} and len(letters) == 2


def test_list_producer_keeps_only_what_was_flushed() -> None:
    p = ListProducer()
    p.send("t", b"v", key=b"k")
    assert p.records == []
    p.close()
    assert p.records == [("t", b"v", b"k", ())]


def test_the_manual_clock_is_the_clinical_one() -> None:
    assert ManualClock is clock.ManualClock


def test_pause_point_setting_is_checked() -> None:
    assert faultpoint._parse(None) is None
    assert faultpoint._parse("3:/tmp/x") == (3, faultpoint.Path("/tmp/x"))
    for bad in ("0:/tmp/x", "x:/tmp", "3", "3:"):
        with pytest.raises(ValueError, match=faultpoint.ENV):
            faultpoint._parse(bad)


def test_the_kit_exports_exactly_its_lazy_names() -> None:
    import vitalstream.testing as kit

    assert sorted(kit.__all__) == sorted(kit._WHERE)
    assert all(getattr(kit, name) is not None for name in kit.__all__)
