"""Apache Kafka backend of the message log, over confluent-kafka (librdkafka).

URL: ``kafka://host:port[,host:port]?security.protocol=SASL_SSL&sasl.mechanism=SCRAM-SHA-512``.
Every query parameter, and every ``VITALSTREAM_KAFKA_<NAME>`` environment variable, is passed
to librdkafka as ``<name>`` lower-cased with ``_`` read as ``.`` (``VITALSTREAM_KAFKA_SASL_PASSWORD``
sets ``sasl.password``); a query parameter wins over the environment. Keep secrets in the
environment: they are redacted from ``repr`` and from every log line and error message.
``connect_timeout`` (seconds, default 5) is ours: how long start-up waits for the cluster
before raising :class:`LogUnavailable`.

Producers are idempotent with ``acks=all``; keyed records go to :func:`partition_for` (an
explicit partition, so both backends place a key identically), unkeyed ones round-robin.
Consumers use the classic group protocol with the *range* assignor and never commit on their
own: :meth:`KafkaConsumer.commit` stores what the caller has finished. Range (not
cooperative-sticky) because it co-partitions: with equal partition counts, partition p of every
subscribed topic goes to the same member, so all of a patient's vitals (keyed by patient id on
every topic) meet in one worker, which per-patient alert and NEWS2 state needs. The embedded
log assigns the same way.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from ..errors import (
    ConfigError,
    LogUnavailable,
    TerminalError,
    TopicError,
    TransientError,
    VitalstreamError,
    require,
)
from .base import (
    Consumer,
    GroupLag,
    Headers,
    Log,
    PartitionInfo,
    Producer,
    Record,
    TopicInfo,
    TopicPartition,
    TopicSpec,
    partition_for,
)

ck = require("confluent_kafka", "kafka")
from confluent_kafka import KafkaError, KafkaException, TopicCollection  # noqa: E402
from confluent_kafka import TopicPartition as _TP  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, OffsetSpec  # noqa: E402

logger = logging.getLogger(__name__)
_rdkafka_logger = logging.getLogger(__name__ + ".librdkafka")

ENV_PREFIX = "VITALSTREAM_KAFKA_"
DEFAULT_PORT = 9092
_ADMIN_TIMEOUT = 30.0
_SECRET_HINTS = ("password", "secret", "token", "jaas", "pem", "key")

_TOPIC_CODES = {
    KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION,
    KafkaError.TOPIC_ALREADY_EXISTS, KafkaError.TOPIC_EXCEPTION,
    KafkaError.TOPIC_DELETION_DISABLED, KafkaError.INVALID_PARTITIONS,
}
_CONFIG_CODES = {
    KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL,
    KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError._INVALID_ARG, KafkaError.INVALID_CONFIG,
    KafkaError.INVALID_REPLICATION_FACTOR, KafkaError.POLICY_VIOLATION,
}
_UNAVAILABLE_CODES = {
    KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT,
    KafkaError._MSG_TIMED_OUT, KafkaError.REQUEST_TIMED_OUT, KafkaError._RESOLVE,
    KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.UNKNOWN_LEADER_EPOCH,  # a broker just restarted: its metadata catches up
}

# A commit refused because this member left the group (its session expired).
_FENCED_CODES = {KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION}


def is_secret(name: str) -> bool:
    return any(h in name.lower() for h in _SECRET_HINTS) and not name.endswith(".location")


def redact(conf: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("***" if is_secret(k) else v) for k, v in conf.items()}


def _error(err: KafkaError | KafkaException | None, what: str) -> VitalstreamError:
    """Translate a librdkafka error into vitalstream's tree (transient vs terminal)."""
    if isinstance(err, KafkaException):
        err = err.args[0] if err.args and isinstance(err.args[0], KafkaError) else None
    if err is None:
        return TransientError(f"{what}: unknown Kafka error")
    msg = f"{what}: {err.name()}: {err.str()}"
    code = err.code()
    if code in _TOPIC_CODES:
        return TopicError(msg)
    if code in _CONFIG_CODES:
        return ConfigError(msg + " (check the kafka:// URL and VITALSTREAM_KAFKA_* settings)")
    if code in _UNAVAILABLE_CODES or (err.retriable() and not err.fatal()):
        return LogUnavailable(msg)
    return TerminalError(msg)


def parse_url(url: str, environ: Mapping[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """librdkafka settings and the start-up timeout for a ``kafka://`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "kafka":
        raise ConfigError(f"log url: expected kafka://host:port, got scheme {parts.scheme!r}")
    servers = []
    for server in (parts.netloc.rpartition("@")[2]).split(","):
        server = server.strip()
        if not server:
            continue
        host, sep, port = server.rpartition(":")
        if not sep or not port.isdigit():
            host, port = server, str(DEFAULT_PORT)
        servers.append(f"{host}:{port}")
    if not servers:
        raise ConfigError("log url: kafka:// needs at least one host:port (kafka://127.0.0.1:9092)")
    conf: dict[str, Any] = {}
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
            conf[name[len(ENV_PREFIX):].lower().replace("_", ".")] = value
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        conf[name.replace("_", ".") if "." not in name else name] = value
    timeout = conf.pop("connect.timeout", "5")
    try:
        connect_timeout = float(timeout)
    except ValueError:
        raise ConfigError(f"log url: connect_timeout must be seconds, got {timeout!r}") from None
    conf["bootstrap.servers"] = ",".join(servers)
    return conf, connect_timeout


class _ErrorReporter:
    """librdkafka ``error_cb``: log each kind of client error once per interval, keep the last."""

    def __init__(self, name: str, interval: float = 30.0) -> None:
        self.name = name
        self.interval = interval
        self.last: KafkaError | None = None
        self._logged: dict[int, float] = {}

    def __call__(self, err: KafkaError) -> None:
        self.last = err
        now = time.monotonic()
        if now - self._logged.get(err.code(), -1e9) >= self.interval:
            self._logged[err.code()] = now
            log = logger.error if err.fatal() else logger.warning
            log("kafka %s: %s: %s (repeats are logged every %.0fs)", self.name, err.name(), err.str(), self.interval)


class KafkaLog(Log):
    """A :class:`Log` on an Apache Kafka cluster (or anything speaking its protocol)."""

    def __init__(self, url: str, *, connect_timeout: float | None = None) -> None:
        self._conf, timeout = parse_url(url)
        self.url = _redact_url(url)
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.bootstrap = self._conf["bootstrap.servers"]
        self._errors = _ErrorReporter("admin")
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
            if last is not None and last.code() in _CONFIG_CODES:
                raise _error(last, f"Kafka at {self.bootstrap}") from exc
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
            return self._admin.list_topics(topic=topic, timeout=_ADMIN_TIMEOUT)
        except KafkaException as exc:
            raise _error(exc, "Kafka metadata") from exc

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
        future = self._admin.create_topics([topic], request_timeout=_ADMIN_TIMEOUT)[spec.name]
        try:
            future.result()
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                if exist_ok:
                    return
                raise TopicError(f"topic {spec.name!r} already exists") from exc
            raise _error(exc, f"create topic {spec.name!r}") from exc
        self._wait_metadata(spec.name, present=True)
        # Return only once every partition's leader serves requests, so the topic is usable.
        self._watermarks((spec.name, p) for p in range(spec.partitions))
        logger.info("kafka: created topic %s (%d partitions, %s)", spec.name, spec.partitions, policy)

    def delete_topic(self, name: str) -> None:
        future = self._admin.delete_topics([name], request_timeout=_ADMIN_TIMEOUT)[name]
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise TopicError(f"topic {name!r} does not exist") from exc
            raise _error(exc, f"delete topic {name!r}") from exc
        self._wait_metadata(name, present=False)

    def purge_topic(self, name: str) -> None:
        n = self._topic_partitions(name)
        futures = self._admin.delete_records(
            [_TP(name, p, ck.OFFSET_END) for p in range(n)], request_timeout=_ADMIN_TIMEOUT
        )
        for future in futures.values():
            try:
                future.result()
            except KafkaException as exc:
                raise _error(exc, f"purge topic {name!r}") from exc

    def list_topics(self) -> list[str]:
        return sorted(t for t in self._metadata().topics if not t.startswith("__"))

    def _watermarks(self, tps: Iterable[tuple[str, int]]) -> dict[TopicPartition, tuple[int, int]]:
        """(low, high) per partition. Retries while leadership settles (e.g. just after create)."""
        tps = list(tps)
        if not tps:
            return {}
        deadline = time.monotonic() + _ADMIN_TIMEOUT
        while True:
            try:
                low = self._list_offsets(tps, OffsetSpec.earliest())
                high = self._list_offsets(tps, OffsetSpec.latest())
                return {tp: (low[tp], high[tp]) for tp in tps}
            except KafkaException as exc:
                err = exc.args[0]
                if err.code() not in _UNAVAILABLE_CODES or time.monotonic() >= deadline:
                    raise _error(exc, "partition offsets") from exc
                time.sleep(0.1)

    def _list_offsets(self, tps: list[TopicPartition], spec: Any) -> dict[TopicPartition, int]:
        futures = self._admin.list_offsets({_TP(t, p): spec for t, p in tps}, request_timeout=_ADMIN_TIMEOUT)
        return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}

    def describe_topic(self, name: str) -> TopicInfo:
        tmd = self._metadata(name).topics.get(name)
        if tmd is None or tmd.error is not None:
            raise TopicError(f"topic {name!r} does not exist")
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        try:
            configs = self._admin.describe_configs([resource], request_timeout=_ADMIN_TIMEOUT)[resource].result()
        except KafkaException as exc:
            raise _error(exc, f"describe topic {name!r}") from exc
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
            desc = self._admin.describe_topics(TopicCollection([name]), request_timeout=_ADMIN_TIMEOUT)[name].result()
        except KafkaException as exc:
            raise _error(exc, f"describe topic {name!r}") from exc
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
            got = c.committed([_TP(t, p) for t, p in tps], timeout=_ADMIN_TIMEOUT)
        except KafkaException as exc:
            raise _error(exc, f"committed offsets of group {group!r}") from exc
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
            result = self._admin.list_consumer_groups(request_timeout=_ADMIN_TIMEOUT).result()
        except KafkaException as exc:
            raise _error(exc, "list consumer groups") from exc
        return sorted(g.group_id for g in result.valid)

    def close(self) -> None:
        """The admin client has nothing to flush; librdkafka frees it with this object."""


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(
        f"{k}={'***' if is_secret(k) else v}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return f"{parts.scheme}://{netloc}" + (f"?{query}" if query else "")


class KafkaProducer(Producer):
    """Idempotent, batching producer. Records are acknowledged when :meth:`flush` returns."""

    def __init__(self, log: KafkaLog) -> None:
        self._errors: list[KafkaError] = []
        self._lock = threading.Lock()
        conf = log._client_conf(**{
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",  # the Java client's partitioner, as partition_for
            "message.timeout.ms": 120_000,
            "allow.auto.create.topics": False,  # an unknown topic is a TopicError, not a new topic
            "error_cb": _ErrorReporter("producer"),
        })
        # User settings win over our defaults (e.g. compression.type=zstd in the URL).
        conf.update(log._conf)
        self._producer = ck.Producer(conf)
        self._partitions: dict[str, int] = {}
        self._round_robin: dict[str, itertools.count[int]] = {}
        self._closed = False

    def _partition_count(self, topic: str) -> int:
        n = self._partitions.get(topic)
        if n is None:
            try:
                md = self._producer.list_topics(topic=topic, timeout=_ADMIN_TIMEOUT)
            except KafkaException as exc:
                raise _error(exc, f"metadata of topic {topic!r}") from exc
            tmd = md.topics.get(topic)
            if tmd is None or tmd.error is not None or not tmd.partitions:
                raise TopicError(f"topic {topic!r} does not exist")
            n = self._partitions[topic] = len(tmd.partitions)
        return n

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
        n = self._partition_count(topic)
        if partition is None:
            if key is not None:
                partition = partition_for(key, n)
            else:
                partition = next(self._round_robin.setdefault(topic, itertools.count())) % n
        elif not 0 <= partition < n:
            raise TopicError(f"topic {topic!r} has no partition {partition} (it has {n})")
        while True:
            try:
                self._producer.produce(
                    topic, value, key, partition=partition, on_delivery=self._on_delivery,
                    timestamp=timestamp_ms or 0, headers=list(headers) if headers else None,
                )
                return
            except BufferError:
                # Local queue full: serve delivery reports until there is room again.
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise _error(exc, f"send to {topic!r}") from exc

    def send_many(
        self,
        topic: str,
        items: Iterable[tuple[bytes | None, bytes]],
        headers: Headers = (),
        timestamp_ms: int | None = None,
    ) -> None:
        for key, value in items:
            self.send(topic, value, key=key, headers=headers, timestamp_ms=timestamp_ms)
        self._producer.poll(0)

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
            raise _error(first, f"kafka: {len(errors)} records could not be stored; first")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.flush()


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
        self._errors = _ErrorReporter(f"consumer {group}")
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
        try:
            msgs = self._consumer.consume(num_messages=max(1, max_records), timeout=max(0.0, timeout))
        except KafkaException as exc:
            raise _error(exc, f"kafka consumer {self.group}") from exc
        out: list[Record] = []
        for m in msgs:
            err = m.error()
            if err is not None:
                self._on_error(err)
                continue
            topic, part, offset = m.topic(), m.partition(), m.offset()
            ts_type, ts = m.timestamp()
            hdrs = m.headers()
            out.append(Record(
                topic, part, offset, m.key(), m.value() or b"",
                ts if ts_type != ck.TIMESTAMP_NOT_AVAILABLE else 0,
                tuple((k, v if v is not None else b"") for k, v in hdrs) if hdrs else (),
            ))
            self._returned[(topic, part)] = offset + 1
        return out

    def _on_error(self, err: KafkaError) -> None:
        code = err.code()
        if code == KafkaError._PARTITION_EOF:
            return
        if err.fatal() or code in _TOPIC_CODES or code in _CONFIG_CODES:
            raise _error(err, f"kafka consumer {self.group}")
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
            if isinstance(err, KafkaError) and err.code() in _FENCED_CODES:
                # The session expired (e.g. the broker restarted): the partitions are no longer
                # ours and their next owner reads from the last commit -- at-least-once. Not
                # an error: raising would kill a worker that only has to poll to rejoin.
                logger.warning("kafka consumer %s: commit skipped, partitions lost (%s)", self.group, err.name())
                for tp in tps:
                    self._returned.pop((tp.topic, tp.partition), None)
                return
            retriable = isinstance(err, KafkaError) and (
                err.retriable() or err.code() in _UNAVAILABLE_CODES
            )
            if not retriable or time.monotonic() >= deadline:
                raise _error(exc, f"kafka consumer {self.group}: commit") from exc
            time.sleep(0.1)
        if offsets is None:
            for tp in tps:
                if self._returned.get((tp.topic, tp.partition)) == tp.offset:
                    del self._returned[(tp.topic, tp.partition)]

    def assignment(self) -> list[TopicPartition]:
        try:
            return sorted((tp.topic, tp.partition) for tp in self._consumer.assignment())
        except KafkaException as exc:
            raise _error(exc, f"kafka consumer {self.group}") from exc

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
                raise _error(exc, f"kafka consumer {self.group}: seek {tp}") from exc
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


__all__ = ["KafkaConsumer", "KafkaLog", "KafkaProducer", "parse_url", "redact"]
