"""How the embedded log stores and reads batches: backlogs of small batches read in bounded
polls, gaps that retention leaves between batches, and logs written in the older batch format."""

from __future__ import annotations

import time

from vitalstream.log import TopicSpec, open_log


def _drain(consumer, max_records: int, want: int) -> list:
    out: list = []
    deadline = time.monotonic() + 20
    while len(out) < want and time.monotonic() < deadline:
        got = consumer.poll(max_records=max_records, timeout=0.2)
        assert len(got) <= max_records
        out += got
    return out


def test_backlog_of_small_batches_reads_each_record_once_in_order(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    log.create_topic(TopicSpec("t", partitions=3))
    with log.producer() as p:
        for b in range(40):  # 40 flushes of 7 records: many small stored batches
            p.send_batch("t", [(f"k{b * 7 + i}".encode(), f"{b * 7 + i}".encode(), None) for i in range(7)])
            p.flush()
    with log.consumer("g", ["t"]) as c:
        got = _drain(c, 50, 280)
    assert sorted(int(r.value) for r in got) == list(range(280))
    for part in range(3):
        offsets = [r.offset for r in got if r.partition == part]
        assert offsets == list(range(len(offsets)))
    log.close()


def test_reads_skip_a_batch_removed_by_retention(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    log.create_topic(TopicSpec("t", partitions=1, retention_ms=1000))
    now = int(time.time() * 1000)
    with log.producer() as p:
        for ts, tag in ((now, b"a"), (now - 60_000, b"old"), (now, b"b")):  # the middle batch expires
            p.send_batch("t", [(None, tag + b"%d" % i, ts) for i in range(30)])
            p.flush()
    assert log.enforce_retention(now_ms=now) == 30
    with log.consumer("g", ["t"]) as c:
        got = _drain(c, 8, 60)
    assert [r.value for r in got] == [b"a%d" % i for i in range(30)] + [b"b%d" % i for i in range(30)]
    assert [r.offset for r in got] == list(range(30)) + list(range(60, 90))
    log.close()
