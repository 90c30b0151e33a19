"""The message log: choose a backend by URL.

``sqlite:///PATH`` (or ``embedded://``) — the embedded, file-backed default;
``kafka://host:port[,host:port]`` — Apache Kafka through confluent-kafka.
Backends load lazily so ``import vitalstream`` never imports confluent_kafka.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

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


def read_all(log: Log, topics: Sequence[str], batch: int = 20_000, idle_timeout: float = 0.3,
             purpose: str = "read") -> Iterator[Record]:
    """Every record now on ``topics``, from the beginning, through a private group that never
    commits (so it leaves no position behind). Stops at the first poll that finds nothing."""
    with log.consumer(f"vitalstream-{purpose}-{uuid.uuid4().hex[:12]}", list(topics)) as c:
        c.seek_to_beginning()
        while records := c.poll(max_records=batch, timeout=idle_timeout):
            yield from records


__all__ = [
    "BACKENDS", "Consumer", "GroupLag", "Log", "Producer", "Record", "TopicInfo", "TopicSpec",
    "open_log", "partition_for", "read_all",
]
