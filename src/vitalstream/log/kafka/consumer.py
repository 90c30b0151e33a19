"""The Kafka :class:`Consumer`: one member of a group, its rebalance callbacks, seeks, commits.

Classic group protocol with the *range* assignor, never committing on its own:
:meth:`KafkaConsumer.commit` stores what the caller has finished, and only for partitions the
member still owns (fenced like the embedded log). Range (not cooperative-sticky) because it
co-partitions: with equal partition counts, partition p of every subscribed topic goes to the
same member, so all of a patient's vitals (keyed by patient id on every topic) meet in one
worker, which per-patient alert and NEWS2 state needs. The embedded log assigns the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import confluent_kafka as ck
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka import TopicPartition as _TP

from ...errors import ConfigError
from ..base import Consumer, Record, TopicPartition
from .errors import CONFIG_CODES, FENCED_CODES, TOPIC_CODES, UNAVAILABLE_CODES, ErrorReporter, translate

if TYPE_CHECKING:
    from .admin import KafkaLog

logger = logging.getLogger(__name__)


class KafkaConsumer(Consumer):
    """One member of a Kafka consumer group (classic protocol, range assignor: co-partitioned)."""

    def __init__(
        self,
        log: KafkaLog,
        group: str,
        topics: list[str],
        auto_offset_reset: Literal["earliest", "latest"],
        session_timeout: float,
    ) -> None:
        if auto_offset_reset not in ("earliest", "latest"):
            raise ConfigError("auto_offset_reset must be 'earliest' or 'latest'")
        if not topics:
            raise ConfigError("a consumer needs at least one topic")
        for t in topics:
            log._topic_partitions(t)  # unknown topic -> TopicError now, not silence later
        self.group = group
        self.topics = topics
        session_ms = int(session_timeout * 1000)
        self._errors = ErrorReporter(f"consumer {group}")
        conf = log._client_conf(**{
            "group.id": group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": auto_offset_reset,
            "partition.assignment.strategy": "range",
            "session.timeout.ms": session_ms,
            "heartbeat.interval.ms": max(100, min(3000, session_ms // 3)),
            "enable.partition.eof": False,
            "allow.auto.create.topics": False,
            # Latency matters more than fetch efficiency for vitals: do not let the broker
            # hold a fetch for the default 500 ms when a few records are waiting.
            "fetch.wait.max.ms": 100,
            "error_cb": self._errors,
        })
        conf.update(log._conf)
        self._consumer = ck.Consumer(conf)
        self._log = log
        # (topic, partition) -> offset just past the last record returned and not yet committed
        self._returned: dict[TopicPartition, int] = {}
        # Seeks asked for before the partitions arrived: applied when they are assigned.
        self._pending_seek: dict[TopicPartition | None, int] = {}
        self._closed = False
        self._consumer.subscribe(
            topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )

    # -- rebalance callbacks (run inside consume()) ------------------------------------------
    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        if self._pending_seek:
            everything = self._pending_seek.pop(None, None)  # "all partitions": the first assignment
            for tp in partitions:
                logical = self._pending_seek.pop((tp.topic, tp.partition), everything)
                if logical is not None:
                    tp.offset = logical
            consumer.assign(partitions)
        logger.debug("kafka consumer %s: assigned %s", self.group, [(p.topic, p.partition) for p in partitions])

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        for tp in partitions:
            self._returned.pop((tp.topic, tp.partition), None)
        logger.debug("kafka consumer %s: revoked %s", self.group, [(p.topic, p.partition) for p in partitions])

    def _on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        logger.warning("kafka consumer %s: lost %d partitions (session expired)", self.group, len(partitions))
        self._on_revoke(consumer, partitions)

    # -- reading -----------------------------------------------------------------------------
    def poll(self, max_records: int = 5000, timeout: float = 1.0) -> list[Record]:
        # consume(n, timeout) waits until it has n messages or the timeout passed, so a
        # trickle of records would wait the whole timeout (the alert latency tail). Take what
        # is queued now; only when nothing is, block for the first record, then drain again.
        want = max(1, max_records)
        try:
            msgs = self._consumer.consume(num_messages=want, timeout=0)
            if not msgs and timeout > 0:
                msgs = self._consumer.consume(num_messages=1, timeout=timeout)
                if msgs and want > 1:
                    msgs += self._consumer.consume(num_messages=want - 1, timeout=0)
        except KafkaException as exc:
            raise translate(exc, f"kafka consumer {self.group}") from exc
        # Once per record: names bound locally, and the offsets noted per partition afterwards
        # (a dict store per record cost ~10 % of this loop).
        out: list[Record] = []
        append, record, no_ts = out.append, Record, ck.TIMESTAMP_NOT_AVAILABLE
        for m in msgs:
            err = m.error()
            if err is not None:
                self._on_error(err)
                continue
            ts_type, ts = m.timestamp()
            hdrs = m.headers()
            append(record(
                m.topic(), m.partition(), m.offset(), m.key(), m.value() or b"",
                ts if ts_type != no_ts else 0,
                tuple((k, v if v is not None else b"") for k, v in hdrs) if hdrs else (),
            ))
        self._note_returned(out)
        return out

    def _note_returned(self, records: list[Record]) -> None:
        """Remember, per partition, the offset just past the last of ``records`` (in log order
        within each partition, so the last one seen of a partition is its furthest)."""
        returned = self._returned
        seen: set[TopicPartition] = set()
        for r in reversed(records):
            tp = (r.topic, r.partition)
            if tp not in seen:
                seen.add(tp)
                returned[tp] = r.offset + 1

    def _on_error(self, err: KafkaError) -> None:
        code = err.code()
        if code == KafkaError._PARTITION_EOF:
            return
        if err.fatal() or code in TOPIC_CODES or code in CONFIG_CODES:
            raise translate(err, f"kafka consumer {self.group}")
        # Transient (broker restarting, leader moving): librdkafka retries on its own.
        self._errors(err)

    # -- committing --------------------------------------------------------------------------
    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        todo = dict(self._returned if offsets is None else offsets)
        owned = set(self.assignment())
        # Fenced like the embedded log: a member only commits partitions it still owns.
        tps = [_TP(t, p, o) for (t, p), o in sorted(todo.items()) if (t, p) in owned]
        if not tps:
            return
        deadline = time.monotonic() + 10.0
        while True:
            try:
                result = self._consumer.commit(offsets=tps, asynchronous=False)
                failed = [tp for tp in result or () if tp.error is not None]
                if not failed:
                    break
                exc = KafkaException(failed[0].error)
            except KafkaException as e:
                exc = e
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and err.code() in FENCED_CODES:
                # The session expired (e.g. the broker restarted): the partitions are no longer
                # ours and their next owner reads from the last commit -- at-least-once. Not
                # an error: raising would kill a worker that only has to poll to rejoin.
                logger.warning("kafka consumer %s: commit skipped, partitions lost (%s)", self.group, err.name())
                for tp in tps:
                    self._returned.pop((tp.topic, tp.partition), None)
                return
            retriable = isinstance(err, KafkaError) and (
                err.retriable() or err.code() in UNAVAILABLE_CODES
            )
            if not retriable or time.monotonic() >= deadline:
                raise translate(exc, f"kafka consumer {self.group}: commit") from exc
            time.sleep(0.1)
        if offsets is None:
            for tp in tps:
                if self._returned.get((tp.topic, tp.partition)) == tp.offset:
                    del self._returned[(tp.topic, tp.partition)]

    def assignment(self) -> list[TopicPartition]:
        try:
            return sorted((tp.topic, tp.partition) for tp in self._consumer.assignment())
        except KafkaException as exc:
            raise translate(exc, f"kafka consumer {self.group}") from exc

    def position(self, tp: TopicPartition) -> int | None:
        """Offset of the next record this member will read from ``tp`` (None if unknown)."""
        (got,) = self._consumer.position([_TP(*tp)])
        return got.offset if got.offset >= 0 else None

    # -- seeking -----------------------------------------------------------------------------
    def _seek(self, which: Literal["low", "high"], partitions: Sequence[TopicPartition] | None) -> None:
        logical = ck.OFFSET_BEGINNING if which == "low" else ck.OFFSET_END
        owned = self.assignment()
        if partitions is None and not owned:
            self._pending_seek = {None: logical}  # applied to whatever gets assigned first
            return
        wanted = owned if partitions is None else list(partitions)
        for tp in wanted:
            if tp not in owned:
                self._pending_seek[tp] = logical
        now = [tp for tp in wanted if tp in owned]
        # Seek to absolute offsets: a logical seek is refused until the partition's fetcher
        # has started, and the absolute offset also tells commit() where we stand.
        marks = self._log._watermarks(now)
        for tp in now:
            offset = marks[tp][0 if which == "low" else 1]
            try:
                self._consumer.seek(_TP(tp[0], tp[1], offset))
            except KafkaException as exc:
                raise translate(exc, f"kafka consumer {self.group}: seek {tp}") from exc
            self._returned[tp] = offset

    def seek_to_beginning(self, partitions: Sequence[TopicPartition] | None = None) -> None:
        self._seek("low", partitions)

    def seek_to_end(self, partitions: Sequence[TopicPartition] | None = None) -> None:
        self._seek("high", partitions)

    def close(self) -> None:
        """Leave the group now, so its partitions move without waiting for the session timeout."""
        if self._closed:
            return
        self._closed = True
        try:
            # librdkafka 2.12 can hang for good in close() when an assignment arrives while
            # closing (cf. librdkafka#4527). Unsubscribe first and serve the resulting
            # revocation, so close() finds no rebalance in flight. Records fetched meanwhile
            # are dropped: they were never returned, so nothing is lost (close never commits).
            self._consumer.unsubscribe()
            deadline = time.monotonic() + 10.0
            while self._consumer.assignment() and time.monotonic() < deadline:
                self._consumer.consume(num_messages=500, timeout=0.05)
            self._consumer.close()
        except (KafkaException, RuntimeError) as exc:  # the broker already dropped us, or closed
            logger.debug("kafka consumer %s: close: %s", self.group, exc)

