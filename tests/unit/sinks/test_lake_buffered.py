"""The lake sink driven by a loop that commits what ``checkpoint`` says: records wait in memory
(the log is their write-ahead log), files hold thousands of rows, and what waits is written
within ``flush_s``, after a quiet second, when idle and on stop. (Crashes of a buffering sink
are in the lake contract, run over file:// and s3://.)"""

from __future__ import annotations

import threading
import time

import pytest

from contract.sink_contract import TOPIC_ID, lake_sink, raw_records
from vitalstream import topics as T
from vitalstream.errors import ConfigError
from vitalstream.runtime import run_worker
from vitalstream.sinks.lake import LakeSink, list_files, open_lake, read_lake
from vitalstream.sinks.lake.segments import own
from vitalstream.testing import memory_log


def test_records_wait_in_memory_and_only_durable_offsets_are_committable(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(time, "monotonic", lambda: 100.0)  # no time passes: nothing is due
    records = raw_records(200, partitions=2, per_hour=1000)
    url = f"file://{tmp_path}/lake"
    sink = lake_sink(url, [T.HEART_RATE], rotate_records=40)
    sink.checkpoint()
    feed_at = 0
    for step in (30, 30, 30):  # offsets 0..44 of each partition: one segment closed (0..39)
        sink.process(records[feed_at:feed_at + step])
        feed_at += step
        offsets = sink.checkpoint()
    assert offsets == {(T.HEART_RATE, 0): 40, (T.HEART_RATE, 1): 40}
    loc = open_lake(url)
    files = list_files(loc, T.HEART_RATE)
    assert [f.staged for f in files] == [False, False]  # a final file each, no staged part
    assert sorted(r.offset for r in read_lake(url, T.HEART_RATE)) == sorted([*range(40), *range(40)])
    assert sink.checkpoint(force=True) == {(T.HEART_RATE, 0): 45, (T.HEART_RATE, 1): 45}
    assert len(list(read_lake(url, T.HEART_RATE))) == 90  # the open segments staged as one part each
    assert sink.files_written == 4


def test_pending_records_are_written_within_flush_s(tmp_path, monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    records = raw_records(20, partitions=1, per_hour=1000)
    url = f"file://{tmp_path}/lake?flush_s=5"
    sink = lake_sink(url, [T.HEART_RATE])
    sink.checkpoint()
    sink.process(records[:10])
    now[0] += 0.5
    sink.process(records[10:])
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 0} and sink.files_written == 0
    now[0] += 0.9  # still arriving (no quiet second yet), younger than flush_s
    sink.process([])
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 0}
    now[0] += 4.0  # the oldest pending record is 5.4 s old
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 20} and sink.files_written == 1
    assert [r.offset for r in read_lake(url, T.HEART_RATE)] == list(range(20))


def test_quiet_stream_is_written_after_a_second(tmp_path, monkeypatch) -> None:
    now = [50.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    sink = lake_sink(f"file://{tmp_path}/lake", [T.HEART_RATE])  # flush_s: the default 10 s
    sink.checkpoint()
    sink.process(raw_records(5, partitions=1))
    now[0] += 0.5
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 0}
    now[0] += 0.6  # no records for 1.1 s: the stream paused or ended
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 5}


def _produce(log, n: int) -> None:  # type: ignore[no-untyped-def]
    with log.producer() as p:
        for r in raw_records(n, partitions=1, per_hour=100_000):
            p.send(T.HEART_RATE, r.value, key=r.key, timestamp_ms=r.timestamp_ms)


def test_run_worker_buffers_then_flushes_when_idle_and_on_stop(tmp_path, monkeypatch) -> None:
    from vitalstream.runtime import Health
    from vitalstream.sinks.lake import sink as sink_module

    monkeypatch.setattr(sink_module, "QUIET_S", 600.0)  # a stall of this loaded machine is no pause
    url = f"file://{tmp_path}/lake?rotate_records=500&flush_s=600"
    with memory_log() as log:
        T.ensure(log, [T.HEART_RATE], 1)
        _produce(log, 3000)
        sink = LakeSink(url, [T.HEART_RATE], topic_id=lambda _: TOPIC_ID, group="lake-idle")
        run_worker(log, sink, threading.Event(), max_records=200, max_wait_s=0.01, until_idle=True)
        assert [r.offset for r in read_lake(url, T.HEART_RATE)] == list(range(3000))
        assert sink.files_written == 6  # five final files and a part of the open segment, not one per poll
        assert [g.committed for g in log.group_lag("lake-idle", [T.HEART_RATE])] == [3000]
        # stopped (Ctrl-C) while records wait in memory: written and committed before it exits
        _produce(log, 200)
        stop, health = threading.Event(), Health()
        sink = LakeSink(url, [T.HEART_RATE], topic_id=lambda _: TOPIC_ID, group="lake-idle")
        worker = threading.Thread(target=run_worker, args=(log, sink, stop),
                                  kwargs={"max_wait_s": 0.01, "health": health})
        worker.start()
        deadline = time.monotonic() + 60
        while health.records < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert health.records == 200
        assert len(list(read_lake(url, T.HEART_RATE))) == 3000  # the new ones only in memory
        assert [g.committed for g in log.group_lag("lake-idle", [T.HEART_RATE])] == [3000]
        stop.set()
        worker.join(60)
        assert not worker.is_alive()
        assert [r.offset for r in read_lake(url, T.HEART_RATE)] == list(range(3200))
        assert [g.committed for g in log.group_lag("lake-idle", [T.HEART_RATE])] == [3200]


def test_own_copies_out_of_the_batch() -> None:
    import pyarrow as pa

    batch = pa.table({"value": pa.array([b"x" * 100] * 1000)})
    piece = own([batch.slice(10, 3)])
    assert piece.equals(batch.slice(10, 3))
    assert piece.column("value").chunk(0).buffers()[2].size == 300  # not the batch's 100 kB


def test_flush_s_option() -> None:
    assert open_lake("file:///tmp/x?flush_s=2.5&rotate_records=5").flush_s == 2.5
    assert open_lake("file:///tmp/x").flush_s == 10.0
    for bad in ("soon", "-1", "nan", "7200"):
        with pytest.raises(ConfigError, match="flush_s"):
            open_lake(f"file:///tmp/x?flush_s={bad}")


def test_slow_partition_among_busy_ones_does_not_keep_their_batches(tmp_path, monkeypatch) -> None:
    from vitalstream.sinks.lake import sink as sink_module

    monkeypatch.setattr(sink_module, "PINNED_ROWS", 300)
    busy, slow = raw_records(1000, partitions=1), raw_records(10, partitions=1, topic=T.BLOOD_OXYGEN)
    sink = LakeSink(f"file://{tmp_path}/lake?flush_s=600", [T.HEART_RATE, T.BLOOD_OXYGEN],
                    topic_id=lambda _: TOPIC_ID, rotate_records=100_000)
    sink.checkpoint()
    for i in range(10):  # each batch: 100 busy records and 1 slow one
        sink.process([*busy[i * 100:(i + 1) * 100], slow[i]])
        sink.checkpoint()
    pending = sink._open[(T.BLOOD_OXYGEN, 0)].pending
    assert sum(t.num_rows for t in pending) == 10
    # copied out once 300 batch rows were kept for it: what it holds is its own, but for the
    # slices of the batches since
    value_bytes = sum(t.column("value").chunk(0).buffers()[2].size for t in pending)
    assert value_bytes < 10 * len(slow[0].value) + 3 * 101 * len(busy[0].value)
    assert len(pending) < 10


def test_a_fast_stream_that_stops_is_written_sooner(tmp_path, monkeypatch) -> None:
    """Batches every 50 ms, then none: after four of those gaps (not before), and never
    before a quarter of a second; a trickle's pauses still wait the full second."""
    now = [50.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    sink = lake_sink(f"file://{tmp_path}/lake", [T.HEART_RATE])
    sink.checkpoint()
    records = raw_records(48, partitions=1, per_hour=100_000)  # one hour: no file closes
    for i in range(0, 40, 5):
        sink.process(records[i:i + 5])
        now[0] += 0.05
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 0}
    now[0] += 0.15  # 0.2 s without records: less than a quarter of a second
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 0}
    now[0] += 0.1  # 0.3 s: more than four gaps and a quarter of a second
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 40}
    # a trickle: a batch every 2 s, then a pause of 0.9 s is no end yet
    for i in range(3):
        sink.process(records[40 + i:41 + i])
        now[0] += 2.0
    now[0] -= 1.1
    assert sink.checkpoint() == {(T.HEART_RATE, 0): 40}
