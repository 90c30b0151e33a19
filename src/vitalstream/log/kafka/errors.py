"""librdkafka errors → vitalstream's exception tree (transient vs terminal), and ``error_cb``.

The code sets say how each kind of failure surfaces: a missing or misdeclared topic is a
:class:`TopicError`; authentication, authorisation and invalid settings are a
:class:`ConfigError` (the user must fix the URL); a broker, leader or coordinator that is
away for now is :class:`LogUnavailable` (retry); anything else fatal is terminal.
"""

from __future__ import annotations

import logging
import time

from confluent_kafka import KafkaError, KafkaException

from ...errors import ConfigError, LogUnavailable, TerminalError, TopicError, TransientError, VitalstreamError

logger = logging.getLogger(__name__)

TOPIC_CODES = {
    KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION,
    KafkaError.TOPIC_ALREADY_EXISTS, KafkaError.TOPIC_EXCEPTION,
    KafkaError.TOPIC_DELETION_DISABLED, KafkaError.INVALID_PARTITIONS,
}
CONFIG_CODES = {
    KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL,
    KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError._INVALID_ARG, KafkaError.INVALID_CONFIG,
    KafkaError.INVALID_REPLICATION_FACTOR, KafkaError.POLICY_VIOLATION,
}
UNAVAILABLE_CODES = {
    KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT,
    KafkaError._MSG_TIMED_OUT, KafkaError.REQUEST_TIMED_OUT, KafkaError._RESOLVE,
    KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.UNKNOWN_LEADER_EPOCH,  # a broker just restarted: its metadata catches up
}

# A commit refused because this member left the group (its session expired).
FENCED_CODES = {KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION}


def translate(err: KafkaError | KafkaException | None, what: str) -> VitalstreamError:
    """Translate a librdkafka error into vitalstream's tree (transient vs terminal)."""
    if isinstance(err, KafkaException):
        err = err.args[0] if err.args and isinstance(err.args[0], KafkaError) else None
    if err is None:
        return TransientError(f"{what}: unknown Kafka error")
    msg = f"{what}: {err.name()}: {err.str()}"
    code = err.code()
    if code in TOPIC_CODES:
        return TopicError(msg)
    if code in CONFIG_CODES:
        return ConfigError(msg + " (check the kafka:// URL and VITALSTREAM_KAFKA_* settings)")
    if code in UNAVAILABLE_CODES or (err.retriable() and not err.fatal()):
        return LogUnavailable(msg)
    return TerminalError(msg)


class ErrorReporter:
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
