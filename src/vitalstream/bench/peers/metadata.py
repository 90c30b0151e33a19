"""The patient metadata table, read whole from the compacted topic at start-up (confluent-kafka).

Both confluent-kafka peers (the Quix app and the per-message loop) enrich from this dict: a
lookup in a dict is cheaper than a state-store join, which favours the peers.
"""

from __future__ import annotations

from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition


def load_metadata(broker: str, topic: str) -> dict[str, dict[str, Any]]:
    """The latest row per patient of ``topic``, read from its beginning to its end."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": "peer-metadata", "enable.auto.commit": False})
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    parts = []
    for p in meta.partitions:
        lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if hi > lo:
            parts.append((p, lo, hi))
    consumer.assign([TopicPartition(topic, p, lo) for p, lo, _ in parts])
    todo = {p: hi for p, _, hi in parts}
    table: dict[str, dict[str, Any]] = {}
    while todo:
        for msg in consumer.consume(10_000, timeout=0.5):
            if msg.error():
                continue
            row = orjson.loads(msg.value())
            table[row["patient_id"]] = row
            if msg.offset() + 1 >= todo.get(msg.partition(), 0):
                todo.pop(msg.partition(), None)
    consumer.close()
    return table
