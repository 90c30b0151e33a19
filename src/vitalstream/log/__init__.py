"""The message log: choose a backend by URL.

``sqlite:///PATH`` (or ``embedded://``) — the embedded, file-backed default;
``kafka://host:port[,host:port]`` — Apache Kafka through confluent-kafka.
Backends load lazily so ``import vitalstream`` never imports confluent_kafka.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..registry import load
from .base import Consumer, GroupLag, Log, Producer, Record, TopicInfo, TopicSpec, partition_for

BACKENDS: dict[str, tuple[str, str | None]] = {
    # scheme -> ("module:Class", pip extra needed or None)
    "sqlite": ("vitalstream.log.embedded:EmbeddedLog", None),
    "embedded": ("vitalstream.log.embedded:EmbeddedLog", None),
    "kafka": ("vitalstream.log.kafka:KafkaLog", "kafka"),
}


def open_log(url: str) -> Log:
    """Open the log a URL names; raises ConfigError for an unknown scheme."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in BACKENDS:
        raise ConfigError(
            f"log url {url!r}: unknown scheme {scheme!r}; allowed: "
            + ", ".join(f"{s}://" for s in BACKENDS)
        )
    target, extra = BACKENDS[scheme]
    cls = load(target, extra)
    return cls(url)  # type: ignore[no-any-return]


__all__ = [
    "BACKENDS", "Consumer", "GroupLag", "Log", "Producer", "Record", "TopicInfo", "TopicSpec",
    "open_log", "partition_for",
]
