"""The Kafka :class:`Log`: start-up check, topic administration, offsets and group lag.

:class:`KafkaLog` holds one librdkafka admin client. It creates, describes, purges and deletes
topics (waiting until the cluster's metadata shows the change, so a created topic is usable
when the call returns), reads partition watermarks and groups' committed offsets, and hands
out :class:`KafkaProducer` and :class:`KafkaConsumer` instances that share its settings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import confluent_kafka as ck
from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka import TopicPartition as _TP
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, OffsetSpec

from ...errors import LogUnavailable, TopicError
from ..base import GroupLag, Log, PartitionInfo, TopicInfo, TopicPartition, TopicSpec
from .config import ADMIN_TIMEOUT, parse_url, redact_url
from .consumer import KafkaConsumer
from .errors import CONFIG_CODES, UNAVAILABLE_CODES, ErrorReporter, translate
from .producer import KafkaProducer

logger = logging.getLogger(__name__)
# librdkafka's own log lines (passed as its "logger" setting), under the package's logger.
_rdkafka_logger = logging.getLogger("vitalstream.log.kafka.librdkafka")


class KafkaLog(Log):
    """A :class:`Log` on an Apache Kafka cluster (or anything speaking its protocol)."""

    def __init__(self, url: str, *, connect_timeout: float | None = None) -> None:
        self._conf, timeout = parse_url(url)
        self.url = redact_url(url)
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.bootstrap = self._conf["bootstrap.servers"]
        self._errors = ErrorReporter("admin")
        self._admin = AdminClient(self._client_conf(error_cb=self._errors))
        self._check_reachable()

    # -- configuration ----------------------------------------------------------------------
    def _client_conf(self, **extra: Any) -> dict[str, Any]:
        return {"logger": _rdkafka_logger, **self._conf, **extra}

    def _check_reachable(self) -> None:
        """Fail fast and clearly when the cluster cannot be reached (instead of hanging)."""
        try:
            md = self._admin.list_topics(timeout=self.connect_timeout)
        except KafkaException as exc:
            self._admin.poll(0)  # serve error_cb, so an authentication failure is recognised
            last = self._errors.last
            if last is not None and last.code() in CONFIG_CODES:
                raise translate(last, f"Kafka at {self.bootstrap}") from exc
            raise LogUnavailable(
                f"Kafka at {self.bootstrap} is not reachable within {self.connect_timeout:g}s "
                f"({exc.args[0].str() if exc.args else exc}); is the broker running, and is the "
                "URL right? (kafka://host:port)"
            ) from exc
        if not md.brokers:
            raise LogUnavailable(f"Kafka at {self.bootstrap} reports no brokers")

    def __repr__(self) -> str:
        return f"KafkaLog({self.url!r})"

    # -- administration ---------------------------------------------------------------------
    def _metadata(self, topic: str | None = None) -> Any:
        try:
            return self._admin.list_topics(topic=topic, timeout=ADMIN_TIMEOUT)
        except KafkaException as exc:
            raise translate(exc, "Kafka metadata") from exc

    def _topic_partitions(self, name: str) -> int:
        tmd = self._metadata(name).topics.get(name)
        if tmd is None or tmd.error is not None:
            raise TopicError(f"topic {name!r} does not exist")
        return len(tmd.partitions)

    def _wait_metadata(self, name: str, present: bool, timeout: float = 15.0) -> None:
        """Admin calls return before every broker's metadata shows the change; wait for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tmd = self._metadata(name).topics.get(name)
            exists = tmd is not None and tmd.error is None and bool(tmd.partitions)
            if exists and present and all(p.leader >= 0 for p in tmd.partitions.values()):
                return
            if not exists and not present:
                return
            time.sleep(0.05)
        logger.warning("kafka: metadata for topic %r not settled after %.0fs", name, timeout)

    def create_topic(self, spec: TopicSpec, exist_ok: bool = True) -> None:
        if spec.partitions < 1:
            raise TopicError(f"topic {spec.name!r}: partitions must be >= 1")
        policy = "compact" if spec.compacted else "delete"
        if spec.compacted and spec.retention_ms is not None:
            policy = "compact,delete"
        config = {
            "cleanup.policy": policy,
            "retention.ms": str(-1 if spec.retention_ms is None else spec.retention_ms),
        }
        topic = NewTopic(spec.name, spec.partitions, spec.replication_factor, config=config)
        future = self._admin.create_topics([topic], request_timeout=ADMIN_TIMEOUT)[spec.name]
        try:
            future.result()
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                if exist_ok:
                    return
                raise TopicError(f"topic {spec.name!r} already exists") from exc
            raise translate(exc, f"create topic {spec.name!r}") from exc
        self._wait_metadata(spec.name, present=True)
        # Return only once every partition's leader serves requests, so the topic is usable.
        self._watermarks((spec.name, p) for p in range(spec.partitions))
        logger.info("kafka: created topic %s (%d partitions, %s)", spec.name, spec.partitions, policy)

    def delete_topic(self, name: str) -> None:
        future = self._admin.delete_topics([name], request_timeout=ADMIN_TIMEOUT)[name]
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise TopicError(f"topic {name!r} does not exist") from exc
            raise translate(exc, f"delete topic {name!r}") from exc
        self._wait_metadata(name, present=False)

    def purge_topic(self, name: str) -> None:
        n = self._topic_partitions(name)
        futures = self._admin.delete_records(
            [_TP(name, p, ck.OFFSET_END) for p in range(n)], request_timeout=ADMIN_TIMEOUT
        )
        for future in futures.values():
            try:
                future.result()
            except KafkaException as exc:
                raise translate(exc, f"purge topic {name!r}") from exc

    def list_topics(self) -> list[str]:
        return sorted(t for t in self._metadata().topics if not t.startswith("__"))

    def _watermarks(self, tps: Iterable[tuple[str, int]]) -> dict[TopicPartition, tuple[int, int]]:
        """(low, high) per partition. Retries while leadership settles (e.g. just after create)."""
        tps = list(tps)
        if not tps:
            return {}
        deadline = time.monotonic() + ADMIN_TIMEOUT
        while True:
            try:
                low = self._list_offsets(tps, OffsetSpec.earliest())
                high = self._list_offsets(tps, OffsetSpec.latest())
                return {tp: (low[tp], high[tp]) for tp in tps}
            except KafkaException as exc:
                err = exc.args[0]
                if err.code() not in UNAVAILABLE_CODES or time.monotonic() >= deadline:
                    raise translate(exc, "partition offsets") from exc
                time.sleep(0.1)

    def _list_offsets(self, tps: list[TopicPartition], spec: Any) -> dict[TopicPartition, int]:
        futures = self._admin.list_offsets({_TP(t, p): spec for t, p in tps}, request_timeout=ADMIN_TIMEOUT)
        return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}

    def describe_topic(self, name: str) -> TopicInfo:
        tmd = self._metadata(name).topics.get(name)
        if tmd is None or tmd.error is not None:
            raise TopicError(f"topic {name!r} does not exist")
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        try:
            configs = self._admin.describe_configs([resource], request_timeout=ADMIN_TIMEOUT)[resource].result()
        except KafkaException as exc:
            raise translate(exc, f"describe topic {name!r}") from exc
        retention = int(configs["retention.ms"].value)
        parts = sorted(tmd.partitions)
        replicas = len(tmd.partitions[parts[0]].replicas) if parts else 1
        spec = TopicSpec(
            name=name,
            partitions=len(parts),
            retention_ms=None if retention < 0 else retention,
            compacted="compact" in configs["cleanup.policy"].value,
            replication_factor=replicas,
        )
        marks = self._watermarks((name, p) for p in parts)
        return TopicInfo(spec, tuple(PartitionInfo(p, *marks[(name, p)]) for p in parts),
                         self._topic_id(name))

    def _topic_id(self, name: str) -> str:
        """The broker's topic UUID (fixed at creation, new after delete + create)."""
        try:
            desc = self._admin.describe_topics(TopicCollection([name]), request_timeout=ADMIN_TIMEOUT)[name].result()
        except KafkaException as exc:
            raise translate(exc, f"describe topic {name!r}") from exc
        return str(desc.topic_id)

    def producer(self) -> KafkaProducer:
        return KafkaProducer(self)

    def consumer(
        self,
        group: str,
        topics: Sequence[str],
        auto_offset_reset: Literal["earliest", "latest"] = "earliest",
        session_timeout: float = 10.0,
    ) -> KafkaConsumer:
        return KafkaConsumer(self, group, list(topics), auto_offset_reset, session_timeout)

    def _committed(self, group: str, tps: list[TopicPartition]) -> dict[TopicPartition, int | None]:
        # A consumer that never subscribes reads the group's offsets without joining it.
        # (AdminClient.list_consumer_group_offsets crashed the interpreter in librdkafka 2.12
        # when the group coordinator was not available yet.)
        c = ck.Consumer(self._client_conf(**{"group.id": group, "enable.auto.commit": False}))
        try:
            got = c.committed([_TP(t, p) for t, p in tps], timeout=ADMIN_TIMEOUT)
        except KafkaException as exc:
            raise translate(exc, f"committed offsets of group {group!r}") from exc
        finally:
            c.close()
        return {(tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in got}

    def group_lag(self, group: str, topics: Sequence[str] | None = None) -> list[GroupLag]:
        md = self._metadata()
        names = [t for t in md.topics if not t.startswith("__")] if topics is None else list(topics)
        tps: list[TopicPartition] = []
        for name in sorted(names):
            tmd = md.topics.get(name)
            if tmd is None or tmd.error is not None:
                if topics is not None:
                    raise TopicError(f"topic {name!r} does not exist")
                continue
            tps += [(name, p) for p in sorted(tmd.partitions)]
        committed = self._committed(group, tps)
        if topics is None:  # only the topics this group has committed on
            mine = {t for (t, _), off in committed.items() if off is not None}
            tps = [tp for tp in tps if tp[0] in mine]
        marks = self._watermarks(tps)
        return [GroupLag(group, t, p, committed.get((t, p)), marks[(t, p)][1]) for t, p in tps]

    def list_groups(self) -> list[str]:
        try:
            result = self._admin.list_consumer_groups(request_timeout=ADMIN_TIMEOUT).result()
        except KafkaException as exc:
            raise translate(exc, "list consumer groups") from exc
        return sorted(g.group_id for g in result.valid)

    def close(self) -> None:
        """The admin client has nothing to flush; librdkafka frees it with this object."""
