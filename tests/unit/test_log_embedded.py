"""The log contract on the embedded backend, plus what only the embedded backend does itself."""

from __future__ import annotations

import time

import pytest

from contract.log_contract import *  # noqa: F403 - the shared contract suite
from contract.log_contract import _produce, _wait_balanced
from vitalstream.errors import ConfigError
from vitalstream.log import TopicSpec, open_log


@pytest.fixture
def log_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/log.db"


def test_retention_by_time_moves_low_watermark(log, uniq) -> None:
    log.create_topic(TopicSpec(uniq, partitions=1, retention_ms=1000))
    now = int(time.time() * 1000)
    with log.producer() as p:  # retention drops whole batches (flushes), as Kafka drops segments
        p.send(uniq, b"old", timestamp_ms=now - 5000)
        p.flush()
        p.send(uniq, b"new", timestamp_ms=now)
        p.flush()
    assert log.enforce_retention(now_ms=now) == 1
    info = log.describe_topic(uniq)
    assert (info.partitions[0].low, info.partitions[0].high) == (1, 2)


def test_compaction_keeps_latest_per_key(log, uniq) -> None:
    log.create_topic(TopicSpec(uniq, partitions=1, retention_ms=None, compacted=True))
    with log.producer() as p:
        for v in (b"a1", b"a2", b"a3"):
            p.send(uniq, v, key=b"a")
        p.send(uniq, b"b1", key=b"b")
        p.flush()
    log.enforce_retention()
    with log.consumer("g", [uniq]) as c:
        assert sorted(r.value for r in c.poll(timeout=1)) == [b"a3", b"b1"]


def test_dead_member_partitions_move_to_survivor(log, uniq) -> None:
    log.create_topic(TopicSpec(uniq, partitions=4))
    log.create_topic(TopicSpec(f"{uniq}-empty", partitions=4))
    a = log.consumer("g", [f"{uniq}-empty", uniq], session_timeout=1.0)
    b = log.consumer("g", [f"{uniq}-empty", uniq], session_timeout=1.0)
    _wait_balanced([a, b], 8)
    _produce(log, uniq, 40)
    a._db.close()  # a dies without leaving the group: no heartbeat any more
    deadline = time.monotonic() + 10
    got = []
    while len(got) < 40 and time.monotonic() < deadline:
        got += b.poll(timeout=0.2)
    assert len(b.assignment()) == 8 and len(got) == 40
    b.close()


def test_bad_url_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_log(f"nosuch://{tmp_path}")
    with pytest.raises(ConfigError, match="sync"):
        open_log(f"sqlite:///{tmp_path}/x.db?sync=sometimes")
