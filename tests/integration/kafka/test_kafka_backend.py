"""What the Kafka backend does beyond the shared log contract, on a real broker."""

from __future__ import annotations

import time

import pytest

from vitalstream.errors import ConfigError, TopicError
from vitalstream.log import Record, TopicSpec, open_log
from vitalstream.log.base import Log
from vitalstream.log.kafka import KafkaLog


@pytest.fixture
def log(kafka_bootstrap: str):
    lg = open_log(f"kafka://{kafka_bootstrap}")
    yield lg
    lg.close()


@pytest.fixture
def topic(log: Log, unique_name: str):
    yield unique_name
    if unique_name in log.list_topics():
        log.delete_topic(unique_name)


def _drain(consumer, want: int, timeout: float = 30.0) -> list[Record]:
    out: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        out += consumer.poll(max_records=1000, timeout=0.5)
    return out


def test_open_log_picks_the_kafka_backend(log: Log, kafka_bootstrap: str) -> None:
    assert isinstance(log, KafkaLog)
    assert repr(log) == f"KafkaLog('kafka://{kafka_bootstrap}')"


def test_topic_settings_reach_the_broker(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=2, retention_ms=None, compacted=True))
    info = log.describe_topic(topic)
    assert info.spec == TopicSpec(topic, partitions=2, retention_ms=None, compacted=True,
                                  replication_factor=1)
    other = topic + "_week"
    log.create_topic(TopicSpec(other))
    try:
        assert log.describe_topic(other).spec == TopicSpec(other)  # 6 partitions, one week
    finally:
        log.delete_topic(other)


def test_replication_factor_beyond_the_cluster_is_refused(log: Log, topic: str) -> None:
    with pytest.raises(ConfigError, match="REPLICATION_FACTOR"):
        log.create_topic(TopicSpec(topic, partitions=1, replication_factor=3))


def test_internal_topics_are_not_listed(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=1))
    names = log.list_topics()
    assert topic in names and not [n for n in names if n.startswith("__")]


def test_bad_partition_and_deleting_unknown_topic(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=2))
    with log.producer() as p, pytest.raises(TopicError):
        p.send(topic, b"x", partition=2)
    with pytest.raises(TopicError):
        log.delete_topic(topic + "_missing")
    with pytest.raises(TopicError):
        log.consumer("g_" + topic, [topic + "_missing"])


def test_unkeyed_records_spread_round_robin(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=3))
    with log.producer() as p:
        for i in range(30):
            p.send(topic, str(i).encode())
        p.flush()
    assert [pi.high for pi in log.describe_topic(topic).partitions] == [10, 10, 10]


def test_seek_requested_before_assignment_applies_on_assign(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=2))
    with log.producer() as p:
        for i in range(10):
            p.send(topic, str(i).encode(), key=str(i).encode())
        p.flush()
    with log.consumer("g_" + topic, [topic]) as c:
        assert c.assignment() == []  # nothing assigned before the first poll
        c.seek_to_end()
        assert _drain(c, 1, timeout=3) == []
        with log.producer() as p:
            p.send(topic, b"new", key=b"k")
            p.flush()
        assert [r.value for r in _drain(c, 1)] == [b"new"]


def test_commit_with_no_args_commits_only_new_progress(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=1))
    group = "g_" + topic
    with log.producer() as p:
        for i in range(5):
            p.send(topic, str(i).encode())
        p.flush()
    with log.consumer(group, [topic]) as c:
        assert len(_drain(c, 5)) == 5
        c.commit()
        c.commit()  # nothing new: a no-op, not an error
    (lag,) = log.group_lag(group)
    assert (lag.topic, lag.partition, lag.committed, lag.high, lag.lag) == (topic, 0, 5, 5, 0)
    assert log.group_lag("g_never_" + topic, [topic])[0].committed is None


def test_a_closed_member_hands_its_partitions_over(log: Log, topic: str) -> None:
    log.create_topic(TopicSpec(topic, partitions=4))
    group = "g_" + topic
    a = log.consumer(group, [topic], session_timeout=6)
    b = log.consumer(group, [topic], session_timeout=6)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (a.assignment() and b.assignment()):
            a.poll(timeout=0.1)
            b.poll(timeout=0.1)
        assert a.assignment() and b.assignment()
        a.close()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and len(b.assignment()) < 4:
            b.poll(timeout=0.1)
        assert b.assignment() == [(topic, p) for p in range(4)]
        assert time.monotonic() - t0 < 6, "close() should leave the group, not wait for the session to expire"
    finally:
        a.close()
        b.close()
