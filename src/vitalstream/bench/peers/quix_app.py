"""Peer 1: the same transform as a Quix Streams application.

    python -m vitalstream.bench.peers.quix_app --broker 127.0.0.1:9092 --prefix bench-x- --expected 100000

Idiomatic Quix Streams 3: one ``StreamingDataFrame`` per raw topic with the JSON
deserializer (orjson inside Quix), validation as a column, a branch of invalid messages to
the dead-letter topic, enrichment from the metadata table (the compacted ``patient-metadata``
topic read into a dict at start-up, which is cheaper than a state-store join), the processed
record to its topic, and threshold alerts expanded to the alerts topic. Quix's defaults
otherwise (at-least-once, commit every 5 s, idempotent producer). Prints one
``BENCH-RESULT {json}`` line.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from quixstreams import Application

from vitalstream.bench.child import usage
from vitalstream.bench.peers.transform import (
    ALERTS_TOPIC,
    DLQ_TOPIC,
    METADATA_TOPIC,
    RAW_TOPICS,
    alerts,
    arguments,
    enrich,
    validate,
)


def load_metadata(broker: str, topic: str) -> dict[str, dict[str, Any]]:
    consumer = Consumer({"bootstrap.servers": broker, "group.id": "peer-quix-metadata",
                         "enable.auto.commit": False})
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
            row = json.loads(msg.value())
            table[row["patient_id"]] = row
            if msg.offset() + 1 >= todo.get(msg.partition(), 0):
                todo.pop(msg.partition(), None)
    consumer.close()
    return table


def main() -> int:
    args = arguments("peer-quix")
    pre = args.prefix
    metadata = load_metadata(args.broker, pre + METADATA_TOPIC)
    count = {"n": 0, "t0": 0.0}

    def on_processed(topic: str, partition: int, offset: int) -> None:
        if not count["n"]:
            count["t0"] = time.time()
        count["n"] += 1
        if count["n"] >= args.expected:
            app.stop()

    app = Application(broker_address=args.broker, consumer_group=args.group,
                      auto_offset_reset="earliest", loglevel=logging.WARNING,
                      on_message_processed=on_processed, use_changelog_topics=False,
                      state_dir=tempfile.mkdtemp(prefix="quix-state-"))
    alerts_topic = app.topic(pre + ALERTS_TOPIC, value_serializer="json")
    dlq_topic = app.topic(pre + DLQ_TOPIC, value_serializer="json")
    for raw, (data_type, processed) in RAW_TOPICS.items():
        source = app.topic(pre + raw, value_deserializer="json")
        out = app.topic(pre + processed, value_serializer="json")
        sdf = app.dataframe(source)
        sdf["_invalid"] = sdf.apply(lambda v, dt=data_type: validate(dt, v))
        bad = sdf[sdf["_invalid"].notnull()]
        bad.apply(lambda v, t=raw: {"source_topic": t, "reason": v["_invalid"]}).to_topic(dlq_topic)
        good = sdf[sdf["_invalid"].isnull()]
        good = good.apply(lambda v, dt=data_type: enrich({k: x for k, x in v.items() if k != "_invalid"}, dt, metadata))
        good.to_topic(out)
        good.apply(lambda v, dt=data_type: alerts(v, dt), expand=True).to_topic(alerts_topic)
    app.run()
    t1 = time.time()
    n = count["n"]
    result = {"events": n, "t_first": count["t0"], "t_last": t1, "wall_s": t1 - count["t0"],
              "events_per_s": n / (t1 - count["t0"]) if n else 0.0,
              **usage()}
    print("BENCH-RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
