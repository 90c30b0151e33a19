"""The Kafka :class:`Producer`: idempotent, ``acks=all``, batching.

Keyed records go to :func:`partition_for` as an explicit partition, so both backends place a
key identically; unkeyed ones round-robin. Delivery failures reported by librdkafka are
collected and raised by :meth:`KafkaProducer.flush`, which is when records count as stored.
librdkafka reports only failures (``delivery.report.only.error``) to one callback set in the
configuration, so a successful record costs no Python call after ``produce``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import confluent_kafka as ck
from confluent_kafka import KafkaError, KafkaException

from ...errors import LogUnavailable, TopicError
from ..base import Headers, Producer, known_partitions, partition_for
from .config import ADMIN_TIMEOUT
from .errors import ErrorReporter, translate

if TYPE_CHECKING:
    from .admin import KafkaLog


class KafkaProducer(Producer):
    """Idempotent, batching producer. Records are acknowledged when :meth:`flush` returns."""

    def __init__(self, log: KafkaLog) -> None:
        self._errors: list[KafkaError] = []
        self._lock = threading.Lock()
        conf = log._client_conf(**{
            "enable.idempotence": True,
            "acks": "all",
            # Every caller flushes (flush is the acknowledgement point) and librdkafka's flush
            # sends at once whatever linger.ms says, so linger only decides how many requests
            # carry the records sent between two flushes, and adds no latency to a flushed
            # record. Longer than the time between two flushes, it leaves one request per
            # partition per flush: 5 -> 50 ms cut the broker's CPU per record 1.1 -> 0.4 us,
            # 50 -> 1000 ms cut it ~1.5 -> ~0.6 us for a producer flushing every 0.3 s (see
            # docs/kafka.md). A full local queue sends at once too (see _wait_for_room).
            "linger.ms": 1000,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",  # the Java client's partitioner, as partition_for
            "message.timeout.ms": 120_000,
            "allow.auto.create.topics": False,  # an unknown topic is a TopicError, not a new topic
            "error_cb": ErrorReporter("producer"),
            "on_delivery": self._on_delivery,  # failures only: no Python call per stored record
            "delivery.report.only.error": True,
        })
        # User settings win over our defaults (e.g. compression.type=zstd in the URL).
        conf.update(log._conf)
        self._producer = ck.Producer(conf)
        # Positional, in confluent-kafka's order (topic, value, key, partition, callback,
        # on_delivery, timestamp, headers): keyword arguments cost ~0.5 us more per record
        # (parsed per call), a quarter of what a produced record costs this process. The
        # callbacks stay None: librdkafka then reports to the configured on_delivery.
        self._produce = self._producer.produce
        self._partitions: dict[str, int] = {}
        self._round_robin: dict[str, itertools.count[int]] = {}
        self._closed = False

    def _partition_count(self, topic: str) -> int:
        n = self._partitions.get(topic)
        if n is None:
            try:
                md = self._producer.list_topics(topic=topic, timeout=ADMIN_TIMEOUT)
            except KafkaException as exc:
                raise translate(exc, f"metadata of topic {topic!r}") from exc
            tmd = md.topics.get(topic)
            if tmd is None or tmd.error is not None or not tmd.partitions:
                raise TopicError(f"topic {topic!r} does not exist")
            n = self._partitions[topic] = len(tmd.partitions)
        return n

    def _wait_for_room(self) -> None:
        """The local queue is full (``queue.buffering.max.messages``): send what it holds now
        rather than after ``linger.ms`` (flush ignores linger), serving delivery reports,
        until there is room again. A caller that sends that much between two flushes would
        otherwise stall for the linger."""
        self._producer.flush(0.05)

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            with self._lock:
                self._errors.append(err)

    def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Headers = (),
        timestamp_ms: int | None = None,
        partition: int | None = None,
    ) -> None:
        # The lookups inline, not through helpers: this runs once per record (sources, bench).
        n = self._partitions.get(topic) or self._partition_count(topic)
        if partition is None:
            if key is not None:
                known = known_partitions(n)
                partition = known.get(key)
                if partition is None:
                    partition = known[key] = partition_for(key, n)
            else:
                partition = next(self._round_robin.setdefault(topic, itertools.count())) % n
        elif not 0 <= partition < n:
            raise TopicError(f"topic {topic!r} has no partition {partition} (it has {n})")
        while True:
            try:
                if headers:
                    self._produce(topic, value, key, partition, None, None, timestamp_ms or 0, list(headers))
                else:
                    self._produce(topic, value, key, partition, None, None, timestamp_ms or 0)
                return
            except BufferError:
                self._wait_for_room()
            except KafkaException as exc:
                raise translate(exc, f"send to {topic!r}") from exc

    def send_batch(self, topic: str, rows: Sequence[tuple[bytes | None, bytes, int | None]],
                   partitions: Sequence[int] | None = None) -> None:
        n = self._partition_count(topic)
        if partitions is not None and not all(0 <= p < n for p in partitions):
            raise TopicError(f"topic {topic!r} has no partition {max(partitions)} (it has {n})")
        produce = self._producer.produce
        rr = self._round_robin.setdefault(topic, itertools.count())
        known = known_partitions(n)
        try:
            for i, (key, value, ts) in enumerate(rows):
                if partitions is not None:
                    partition = partitions[i]
                elif key is None:
                    partition = next(rr) % n
                else:
                    q = known.get(key)
                    if q is None:
                        q = known[key] = partition_for(key, n)
                    partition = q
                while True:
                    try:
                        produce(topic, value, key, partition, None, None, ts or 0)  # positional: see __init__
                        break
                    except BufferError:
                        self._wait_for_room()
        except KafkaException as exc:
            raise translate(exc, f"send to {topic!r}") from exc
        self._producer.poll(0)  # serve failure reports once per batch, not per record

    def send_many(
        self,
        topic: str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None:
        super().send_many(topic, items, headers, timestamp_ms)
        self._producer.poll(0)  # serve delivery callbacks once per batch, not per record

    def flush(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        # In slices, so a KeyboardInterrupt is not held up by a long librdkafka wait.
        while len(self._producer) > 0:
            left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if left <= 0:
                raise LogUnavailable(
                    f"kafka: {len(self._producer)} records not acknowledged within {timeout:g}s"
                )
            self._producer.flush(left)
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            first = errors[0]
            if first.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
                self._partitions.clear()  # a topic was deleted or re-created: re-read metadata
            raise translate(first, f"kafka: {len(errors)} records could not be stored; first")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.flush()
