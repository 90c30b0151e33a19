"""The contract every message-log backend passes (see vitalstream.log.base).

A backend's test module provides a ``log_url`` fixture and star-imports this module; the
tests here never look at which backend they run on. Every test uses its own topics and groups.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from vitalstream.errors import TopicError
from vitalstream.log import Log, Record, TopicSpec, open_log, partition_for


@pytest.fixture
def log(log_url: str):
    lg = open_log(log_url)
    yield lg
    lg.close()


@pytest.fixture
def uniq() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _drain(consumer, want: int, timeout: float = 30.0) -> list[Record]:
    out: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        out += consumer.poll(max_records=1000, timeout=0.5)
    return out


def _wait_balanced(consumers, partitions: int, timeout: float = 60.0) -> None:
    """Poll every member until the group's partitions are split between all of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owned = [set(c.assignment()) for c in consumers]
        if all(owned) and sum(map(len, owned)) == partitions and len(set().union(*owned)) == partitions:
            return
        for c in consumers:
            assert c.poll(timeout=0.1) == []
    raise AssertionError(f"group did not balance: {[c.assignment() for c in consumers]}")


def _produce(log: Log, topic: str, n: int, keys: int = 10) -> None:
    with log.producer() as p:
        for i in range(n):
            p.send(topic, f"v{i}".encode(), key=f"k{i % keys}".encode(), headers=(("i", str(i).encode()),))
        p.flush()


def test_create_describe_list_delete(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=3, retention_ms=3_600_000))
    assert uniq in log.list_topics()
    info = log.describe_topic(uniq)
    assert info.spec.partitions == 3 and [p.partition for p in info.partitions] == [0, 1, 2]
    assert info.records == 0
    log.create_topic(TopicSpec(uniq, partitions=3))  # exist_ok
    with pytest.raises(TopicError):
        log.create_topic(TopicSpec(uniq, partitions=3), exist_ok=False)
    log.delete_topic(uniq)
    assert uniq not in log.list_topics()
    with pytest.raises(TopicError):
        log.describe_topic(uniq)


def test_topic_id_is_stable_and_new_after_recreate(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=2))
    first = log.describe_topic(uniq).topic_id
    assert first and log.describe_topic(uniq).topic_id == first
    log.delete_topic(uniq)
    log.create_topic(TopicSpec(uniq, partitions=2))
    second = log.describe_topic(uniq).topic_id
    assert second and second != first
    log.delete_topic(uniq)


def test_keyed_records_land_on_hash_partition_in_order(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=4))
    _produce(log, uniq, 200)
    info = log.describe_topic(uniq)
    assert info.records == 200
    with log.consumer(f"g-{uniq}", [uniq]) as c:
        recs = _drain(c, 200)
    assert len(recs) == 200
    by_part: dict[int, list[Record]] = {}
    for r in recs:
        assert r.partition == partition_for(r.key, 4)
        by_part.setdefault(r.partition, []).append(r)
    for rs in by_part.values():
        offs = [r.offset for r in rs]
        assert offs == list(range(offs[0], offs[0] + len(offs)))  # contiguous, increasing
        idx = [int(r.header("i")) for r in rs]
        assert idx == sorted(idx)  # produce order kept within a partition


def test_headers_timestamp_and_raw_bytes_round_trip(log: Log, uniq: str) -> None:
    # retention off: the record is stamped in 2023 and retention deletes by record timestamp
    log.create_topic(TopicSpec(uniq, partitions=1, retention_ms=None))
    payload = bytes(range(256))
    with log.producer() as p:
        p.send(uniq, payload, key=None, headers=(("a", b"\x00\xff"), ("b", b"")), timestamp_ms=1_700_000_000_123)
        p.flush()
    with log.consumer(f"g-{uniq}", [uniq]) as c:
        (r,) = _drain(c, 1)
    assert r.value == payload and r.key is None
    assert r.timestamp_ms == 1_700_000_000_123
    assert dict(r.headers) == {"a": b"\x00\xff", "b": b""}


def test_committed_offsets_survive_restart(log: Log, log_url: str, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=2))
    _produce(log, uniq, 100)
    group = f"g-{uniq}"
    with log.consumer(group, [uniq]) as c:
        first = _drain(c, 100)
        c.commit()
    _produce(log, uniq, 50)
    other = open_log(log_url)  # a new handle, as a restarted process would open
    try:
        with other.consumer(group, [uniq]) as c2:
            rest = _drain(c2, 50, timeout=20)
            assert not c2.poll(timeout=0.5)
    finally:
        other.close()
    assert len(first) == 100 and len(rest) == 50
    seen = {(r.partition, r.offset) for r in first}
    assert seen.isdisjoint({(r.partition, r.offset) for r in rest})


def test_uncommitted_records_are_redelivered(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=1))
    _produce(log, uniq, 10)
    group = f"g-{uniq}"
    with log.consumer(group, [uniq]) as c:
        got = _drain(c, 10)
        c.commit({(uniq, 0): got[4].offset + 1})  # only the first five are done
    with log.consumer(group, [uniq]) as c:
        again = _drain(c, 5)
    assert [r.value for r in again] == [r.value for r in got[5:]]


def test_two_members_split_partitions(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=6))
    group = f"g-{uniq}"
    a = log.consumer(group, [uniq])
    b = log.consumer(group, [uniq])
    try:
        _wait_balanced([a, b], 6)
        _produce(log, uniq, 600, keys=60)
        got_a: list[Record] = []
        got_b: list[Record] = []
        deadline = time.monotonic() + 60
        while len(got_a) + len(got_b) < 600 and time.monotonic() < deadline:
            got_a += a.poll(timeout=0.2)
            got_b += b.poll(timeout=0.2)
        a.commit()
        b.commit()
        pa, pb = set(a.assignment()), set(b.assignment())
    finally:
        a.close()
        b.close()
    assert pa and pb and pa.isdisjoint(pb) and pa | pb == {(uniq, p) for p in range(6)}
    assert {(r.partition, r.offset) for r in got_a}.isdisjoint({(r.partition, r.offset) for r in got_b})
    assert len({(r.partition, r.offset) for r in got_a + got_b}) == 600


def test_seek_to_beginning_and_end(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=2))
    _produce(log, uniq, 20)
    with log.consumer(f"g-{uniq}", [uniq]) as c:
        assert len(_drain(c, 20)) == 20
        c.seek_to_beginning()
        assert len(_drain(c, 20)) == 20
        c.seek_to_end()
        assert c.poll(timeout=0.5) == []


def test_latest_reset_skips_history(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=1))
    _produce(log, uniq, 5)
    with log.consumer(f"g-{uniq}", [uniq], auto_offset_reset="latest") as c:
        deadline = time.monotonic() + 30
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(timeout=0.2)
        assert c.poll(timeout=0.5) == []
        _produce(log, uniq, 3)
        assert [r.value for r in _drain(c, 3)] == [b"v0", b"v1", b"v2"]


def test_group_lag(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=2))
    _produce(log, uniq, 40)
    group = f"g-{uniq}"
    with log.consumer(group, [uniq]) as c:
        got = _drain(c, 40)
        c.commit()
    assert len(got) == 40
    assert sum(g.lag for g in log.group_lag(group, [uniq])) == 0
    _produce(log, uniq, 7)
    assert sum(g.lag for g in log.group_lag(group, [uniq])) == 7
    assert group in log.list_groups()


def test_purge_keeps_topic_and_offsets_grow(log: Log, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=1))
    _produce(log, uniq, 10)
    log.purge_topic(uniq)
    info = log.describe_topic(uniq)
    assert info.records == 0 and info.partitions[0].high == 10
    _produce(log, uniq, 1)
    with log.consumer(f"g-{uniq}", [uniq]) as c:
        (r,) = _drain(c, 1)
    assert r.offset == 10


def test_unknown_topic_is_a_clear_error(log: Log, uniq: str) -> None:
    with pytest.raises(TopicError):
        log.describe_topic(uniq)
    with pytest.raises(TopicError), log.producer() as p:
        p.send(uniq, b"x")
        p.flush()


_KILL_PRODUCER = r"""
import sys
from vitalstream.log import open_log
log = open_log(sys.argv[1]); topic = sys.argv[2]
p = log.producer()
i = 0
while True:
    for _ in range(50):
        p.send(topic, str(i).encode(), key=str(i % 7).encode()); i += 1
    p.flush()
    print(i, flush=True)   # everything below i is acknowledged
"""


def test_kill_9_of_producer_loses_no_acknowledged_record(log: Log, log_url: str, uniq: str) -> None:
    log.create_topic(TopicSpec(uniq, partitions=3))
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_PRODUCER, log_url, uniq],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    assert proc.stdout is not None
    acked = 0
    deadline = time.monotonic() + 60
    while acked < 2000 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert acked >= 2000, "producer did not acknowledge enough records"
    with log.consumer(f"g-{uniq}", [uniq]) as c:
        got = _drain(c, acked, timeout=60)
        got += c.poll(timeout=1.0)
    values = {int(r.value) for r in got}
    assert set(range(acked)) <= values


def test_members_are_co_partitioned_across_topics(log: Log, uniq: str) -> None:
    """Partition p of every subscribed topic goes to one member: a patient's records from all
    vitals topics (same key, same partition count) meet in one worker."""
    topics = [f"{uniq}-a", f"{uniq}-b"]
    for t in topics:
        log.create_topic(TopicSpec(t, partitions=4))
    group = f"g-{uniq}"
    a = log.consumer(group, topics)
    b = log.consumer(group, topics)
    try:
        _wait_balanced([a, b], 8)
        for member in (a, b):
            owned = member.assignment()
            parts_a = {p for t, p in owned if t == topics[0]}
            parts_b = {p for t, p in owned if t == topics[1]}
            assert parts_a == parts_b and parts_a
    finally:
        a.close()
        b.close()
