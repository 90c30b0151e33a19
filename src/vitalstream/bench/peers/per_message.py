"""Peer 2: a plain per-message consumer loop in the original systems' style (kafka-python, json.loads).

    python -m vitalstream.bench.peers.per_message --broker 127.0.0.1:9092 --prefix bench-x- --expected 100000

One message at a time: ``for message in consumer``, ``json.loads``, validate, enrich from the
metadata table (read from the compacted ``patient-metadata`` topic at start-up, as a dict),
``producer.send`` the processed record and any alert. Reasonably written, not a straw man: the
producer batches (``linger_ms=5``), offsets are committed every 5 s by kafka-python's
auto-commit (its default), and nothing is done twice. Prints one ``BENCH-RESULT {json}`` line.
"""

from __future__ import annotations

import json
import time
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from vitalstream.bench.child import usage
from vitalstream.bench.peers.transform import (
    ALERTS_TOPIC,
    DLQ_TOPIC,
    METADATA_TOPIC,
    RAW_TOPICS,
    alerts,
    arguments,
    dead_letter,
    enrich,
    validate,
)


def load_metadata(broker: str, topic: str) -> dict[str, dict[str, Any]]:
    """The whole compacted metadata topic, latest row per patient."""
    consumer = KafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    end = consumer.end_offsets(parts)
    table: dict[str, dict[str, Any]] = {}
    while any(consumer.position(tp) < end[tp] for tp in parts):
        for batch in consumer.poll(timeout_ms=500).values():
            for message in batch:
                row = json.loads(message.value)
                table[row["patient_id"]] = row
    consumer.close()
    return table


def main() -> int:
    args = arguments("peer-per-message")
    pre = args.prefix
    metadata = load_metadata(args.broker, pre + METADATA_TOPIC)
    routes = {pre + raw: (data_type, pre + out) for raw, (data_type, out) in RAW_TOPICS.items()}
    consumer = KafkaConsumer(*routes, bootstrap_servers=args.broker, group_id=args.group,
                             auto_offset_reset="earliest")
    producer = KafkaProducer(bootstrap_servers=args.broker, linger_ms=5)
    alerts_topic, dlq_topic = pre + ALERTS_TOPIC, pre + DLQ_TOPIC
    n = raised = invalid = 0
    t0 = 0.0
    for message in consumer:
        if not n:
            t0 = time.time()
        n += 1
        data_type, out_topic = routes[message.topic]
        reason: str | None
        try:
            data = json.loads(message.value)
        except ValueError:
            data, reason = None, "not JSON"
        else:
            reason = validate(data_type, data)
        if reason is not None:
            producer.send(dlq_topic, json.dumps(dead_letter(message.topic, message.value, reason)).encode())
            invalid += 1
        else:
            record = enrich(data, data_type, metadata)
            producer.send(out_topic, key=message.key, value=json.dumps(record).encode())
            for alert in alerts(record, data_type):
                producer.send(alerts_topic, key=message.key, value=json.dumps(alert).encode())
                raised += 1
        if n >= args.expected:
            break
    producer.flush()
    consumer.commit()
    t1 = time.time()
    consumer.close()
    producer.close()
    try:
        import crc32c  # noqa: F401  (kafka-python uses it for record-batch checksums if present)
        crc = "c"
    except ImportError:
        crc = "pure-python"
    result = {"crc32c": crc, "events": n, "t_first": t0, "t_last": t1, "wall_s": t1 - t0,
              "events_per_s": n / (t1 - t0), "alerts": raised, "dead_letters": invalid,
              **usage()}
    print("BENCH-RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
