"""How the embedded log stores and reads batches: backlogs of small batches read in bounded
polls, gaps that retention leaves between batches, and logs written in the older batch format."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import msgspec
import pytest

from vitalstream.errors import ConfigError
from vitalstream.log import TopicSpec, open_log
from vitalstream.log.base import known_partitions, partition_for
from vitalstream.log.embedded import batches
from vitalstream.log.embedded.db import PAGE_SIZE


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


def test_a_log_created_with_small_pages_keeps_them_and_works(tmp_path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)  # as a log written before pages were 16 KiB
    old.execute("PRAGMA page_size=4096")
    old.execute("PRAGMA journal_mode=WAL")
    old.close()
    log = open_log(f"sqlite:///{path}")
    log.create_topic(TopicSpec("t", partitions=1))
    with log.producer() as p:
        p.send_batch("t", [(b"k", b"v%d" % i, None) for i in range(100)])
    with log.consumer("g", ["t"]) as c:
        assert [r.value for r in _drain(c, 1000, 100)] == [b"v%d" % i for i in range(100)]
    log.close()
    open_log(f"sqlite:///{tmp_path}/new.db").close()
    for db, size in ((path, 4096), (tmp_path / "new.db", PAGE_SIZE)):
        with closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA page_size").fetchone()[0] == size


def _v1(records: list[tuple[int, int, bytes | None, bytes, list[tuple[str, bytes]] | None]]) -> bytes:
    """A batch as logs written before issue 17's session 6 stored it."""
    return msgspec.msgpack.encode(records)


def test_batches_in_the_older_format_still_read_and_compact(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/log.db"
    log = open_log(url)
    log.create_topic(TopicSpec("t", partitions=1, retention_ms=None, compacted=True))
    old = [(0, 1000, b"a", b"a0", [("h", b"x")]), (1, 1001, b"b", b"b1", None), (2, 1002, None, b"n2", None),
           (3, 1003, b"a", b"a3", None), (4, 1004, b"c", b"c4", None)]
    with closing(sqlite3.connect(tmp_path / "log.db")) as conn, conn:
        (tid,) = conn.execute("SELECT id FROM topics WHERE name='t'").fetchone()
        conn.execute("INSERT INTO batches VALUES(?,0,0,4,1004,?)", (tid, _v1(old)))
        conn.execute("UPDATE partitions SET high=5 WHERE topic_id=?", (tid,))
    with log.producer() as p:  # a new batch after the old one, with headers
        p.send("t", b"b5", key=b"b", headers=(("h", b"y"),), timestamp_ms=1005)
    with log.consumer("g", ["t"]) as c:
        got = _drain(c, 2, 6)
    assert [(r.offset, r.key, r.value, r.timestamp_ms, r.headers) for r in got] == [
        (o, k, v, ts, tuple(h or ())) for o, ts, k, v, h in old] + [(5, b"b", b"b5", 1005, (("h", b"y"),))]
    assert log.enforce_retention() == 2  # a0 and b1 superseded
    with log.consumer("g2", ["t"]) as c:
        got = _drain(c, 2, 4)
    assert [(r.offset, r.value, r.headers) for r in got] == [
        (2, b"n2", ()), (3, b"a3", ()), (4, b"c4", ()), (5, b"b5", (("h", b"y"),))]
    log.close()


def test_send_batch_places_keys_as_partition_for_and_keeps_them_in_order(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    log.create_topic(TopicSpec("t", partitions=5))
    keys = [f"patient-{i % 37}".encode() for i in range(400)]
    with log.producer() as p:
        p.send_batch("t", [(k, b"%d" % i, 1000 + i) for i, k in enumerate(keys)])
    with log.consumer("g", ["t"]) as c:
        got = _drain(c, 1000, 400)
    assert all(r.partition == partition_for(r.key, 5) for r in got)
    for part in range(5):
        assert [int(r.value) for r in got if r.partition == part] == sorted(
            i for i, k in enumerate(keys) if partition_for(k, 5) == part)
    log.close()


def test_known_partitions_is_bounded() -> None:
    known = known_partitions(7)
    known.update({b"k%d" % i: 0 for i in range(1 << 16)})
    assert known_partitions(7) == {}


def test_a_batch_format_from_a_newer_version_is_a_clear_error() -> None:
    assert batches.decode(batches.encode(7, [(b"k", b"v", 1)])).records("t", 0, 0, 1)[0].offset == 7
    with pytest.raises(ConfigError, match="format 3, newer"):
        batches.decode(msgspec.msgpack.encode((3, 0, [], None, None)))
