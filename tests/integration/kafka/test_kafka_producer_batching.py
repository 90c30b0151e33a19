"""The Kafka producer's batching, on a real broker: ``linger.ms`` never holds a flushed record
back, ``send``'s key → partition cache places keys as :func:`partition_for` does, also
after the cache filled up and started again, and ``send_batch`` keeps timestamps, partitions
and delivery failures."""

from __future__ import annotations

import time

import pytest
from test_kafka_backend import _drain, log, topic  # noqa: F401  (fixtures)

from vitalstream.errors import VitalstreamError
from vitalstream.log import TopicSpec, open_log
from vitalstream.log.base import Log, partition_for


def test_flush_does_not_wait_for_linger(kafka_bootstrap: str, topic: str, log: Log) -> None:  # noqa: F811
    # The default linger.ms (1000) is safe only because librdkafka's flush sends at once: with a
    # linger of a minute, flush must still store the record within seconds.
    log.create_topic(TopicSpec(topic, partitions=1))
    slow = open_log(f"kafka://{kafka_bootstrap}?linger.ms=60000")
    try:
        with slow.producer() as p:
            p.send(topic, b"v", key=b"k")
            t0 = time.monotonic()
            p.flush()
            took = time.monotonic() - t0
    finally:
        slow.close()
    assert took < 10.0, f"flush took {took:.1f}s with linger.ms=60000"
    with log.consumer(f"{topic}-g", [topic]) as c:
        assert [r.value for r in _drain(c, 1)] == [b"v"]


def test_send_places_keys_like_partition_for_past_the_cache_bound(log: Log, topic: str) -> None:  # noqa: F811
    log.create_topic(TopicSpec(topic, partitions=5))
    keys = [b"patient-%06d" % i for i in range((1 << 16) + 500)]  # fills the cache, which starts over
    with log.producer() as p:
        for k in [*keys, *keys[:300]]:  # keys seen before the cache started over come again
            p.send(topic, b"", key=k, timestamp_ms=1_700_000_000_000)
    with log.consumer(f"{topic}-g", [topic]) as c:
        got = _drain(c, len(keys) + 300)
    assert len(got) == len(keys) + 300
    wrong = [(r.key, r.partition) for r in got if r.partition != partition_for(r.key, 5)]
    assert not wrong, wrong[:5]


def test_send_batch_keeps_timestamps_and_partitions_and_reports_failures(
    kafka_bootstrap: str, log: Log, topic: str  # noqa: F811
) -> None:
    # send_batch calls librdkafka's produce positionally (cheaper than keywords): the
    # timestamps, explicit partitions and keys must land where the keywords put them, and a
    # record that cannot be stored must still reach flush through the configured on_delivery.
    log.create_topic(TopicSpec(topic, partitions=3))
    rows = [(b"k%d" % i, b"v%d" % i, 1_700_000_000_000 + i) for i in range(30)]
    before = int(time.time() * 1000)
    with log.producer() as p:
        p.send_batch(topic, rows, partitions=[(i * 7) % 3 for i in range(30)])
        p.send_batch(topic, [(b"patient-1", b"keyed", None)])
    with log.consumer(f"{topic}-g", [topic]) as c:
        got = {r.value: r for r in _drain(c, 31)}
    assert len(got) == 31
    for i, (key, value, ts) in enumerate(rows):
        r = got[value]
        assert (r.key, r.partition, r.timestamp_ms) == (key, (i * 7) % 3, ts)
    keyed = got[b"keyed"]
    assert keyed.partition == partition_for(b"patient-1", 3)
    assert before - 1000 <= keyed.timestamp_ms <= int(time.time() * 1000) + 1000  # no timestamp: now

    short = open_log(f"kafka://{kafka_bootstrap}?message.timeout.ms=1500")
    try:
        p = short.producer()
        p.send_batch(topic, rows[:1])
        p.flush()
        log.delete_topic(topic)  # the producer still knows its partitions: delivery must fail
        p.send_batch(topic, rows[:3])
        with pytest.raises(VitalstreamError, match="3 records could not be stored"):
            p.flush(timeout=30)
        p.close()  # the failures were reported once; nothing is left
    finally:
        short.close()


def test_a_full_local_queue_sends_at_once_not_after_linger(kafka_bootstrap: str, topic: str, log: Log) -> None:  # noqa: F811
    # linger.ms is long (every caller flushes): a caller sending more than the local queue
    # holds between two flushes must not wait for the linger each time the queue fills.
    log.create_topic(TopicSpec(topic, partitions=3))
    small = open_log(f"kafka://{kafka_bootstrap}?queue.buffering.max.messages=1000")
    try:
        with small.producer() as p:
            t0 = time.monotonic()
            for i in range(10_000):  # the queue fills ten times
                p.send(topic, b"x" * 100, key=b"k%d" % (i % 100))
            took = time.monotonic() - t0
    finally:
        small.close()
    assert took < 5.0, f"10,000 sends through a 1,000-record queue took {took:.1f}s"
    assert sum(pi.high for pi in log.describe_topic(topic).partitions) == 10_000
