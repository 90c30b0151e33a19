"""The embedded log's write path: how send_batch places and stamps rows (mixed keyed and
unkeyed rows, rows with and without timestamps, explicit partitions, bad input buffering
nothing), and the WAL checkpoint interval whatever a log's page size."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest

from vitalstream.errors import TopicError
from vitalstream.log import TopicSpec, open_log
from vitalstream.log.base import partition_for
from vitalstream.log.embedded.db import PAGE_SIZE, Db


def _all(log, topic: str, want: int) -> list:
    out: list = []
    with log.consumer("g", [topic]) as c:
        deadline = time.monotonic() + 20
        while len(out) < want and time.monotonic() < deadline:
            out += c.poll(max_records=1000, timeout=0.2)
    return out


def test_send_batch_mixes_keyed_unkeyed_stamped_and_unstamped_rows(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    log.create_topic(TopicSpec("t", partitions=3))
    rows = [(None if i % 4 == 0 else b"k%d" % (i % 5), b"%d" % i, None if i % 3 == 0 else 1000 + i)
            for i in range(60)]
    before = int(time.time() * 1000)
    with log.producer() as p:
        p.send_batch("t", rows)
    got = sorted(_all(log, "t", 60), key=lambda r: int(r.value))
    assert [int(r.value) for r in got] == list(range(60))
    for i, r in enumerate(got):
        assert r.key == rows[i][0]
        assert r.timestamp_ms == 1000 + i if i % 3 else r.timestamp_ms >= before
        if r.key is not None:
            assert r.partition == partition_for(r.key, 3)
    unkeyed = [r.partition for r in got if r.key is None]
    assert unkeyed == [i % 3 for i in range(len(unkeyed))]  # round-robin in row order
    log.close()


def test_send_batch_with_explicit_partitions_and_bad_input(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    log.create_topic(TopicSpec("t", partitions=4))
    with log.producer() as p:
        with pytest.raises(TopicError, match="no partition 4"):
            p.send_batch("t", [(b"a", b"x", 1), (b"b", b"y", 2)], partitions=[0, 4])
        with pytest.raises(TopicError, match="no partition -1"):
            p.send_batch("t", [(b"a", b"x", 1)], partitions=[-1])
        with pytest.raises(ValueError, match="aligned"):
            p.send_batch("t", [(b"a", b"x", 1), (b"b", b"y", 2)], partitions=[0])
        p.send_batch("t", [(b"a", b"%d" % i, None) for i in range(8)], partitions=[i % 4 for i in range(8)])
    got = _all(log, "t", 8)
    assert len(got) == 8  # the rejected calls buffered nothing
    assert sorted((r.partition, int(r.value)) for r in got) == [(i % 4, i) for i in sorted(range(8), key=lambda i: (i % 4, i))]
    log.close()


@pytest.mark.parametrize(("page", "checkpoint"), [(None, 256), (16384, 1000), (4096, 1000)])
def test_the_wal_checkpoints_at_about_16_mib_whatever_the_page_size(tmp_path, page, checkpoint) -> None:
    path = tmp_path / "log.db"
    if page is not None:  # a log created by an older version keeps its page size
        with closing(sqlite3.connect(path)) as old:
            old.execute(f"PRAGMA page_size={page}")
            old.execute("PRAGMA journal_mode=WAL")
    db = Db(path, "normal")
    assert db.query("PRAGMA page_size")[0][0] == (page or PAGE_SIZE)
    assert db.query("PRAGMA wal_autocheckpoint")[0][0] == checkpoint
    db.close()
