"""Peer: a per-message loop in the original systems' style (kafka-python, json).

    python -m vitalstream.bench.peers.per_message --broker 127.0.0.1:9092 --prefix bench-x- --expected 100000

One message at a time: ``for message in consumer``, ``json.loads``, the shared
:func:`.transform.step` with the patient's state in a dict, ``producer.send`` per output
(``linger_ms=5`` so the producer batches), kafka-python's auto-commit every 5 s (its default).
Kept as the third peer: kafka-python is what the original systems used; the loop a user would
write today is :mod:`.ck_loop`. Prints one ``BENCH-RESULT {json}`` line.
"""

from __future__ import annotations

import json
import time
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from vitalstream.bench.peers.clinical import new_state
from vitalstream.bench.peers.transform import METADATA_TOPIC, arguments, input_routes, output_topics, report, step


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
    t_start = time.time()
    metadata = load_metadata(args.broker, args.prefix + METADATA_TOPIC)
    routes = input_routes(args.prefix)
    topics = output_topics(args.out_prefix)
    consumer = KafkaConsumer(*routes, bootstrap_servers=args.broker, group_id=args.group,
                             auto_offset_reset="earliest")
    producer = KafkaProducer(bootstrap_servers=args.broker, linger_ms=5)
    patients: dict[str, dict[str, Any]] = {}
    counts = dict.fromkeys(("processed", "alert", "news2", "dead_letter"), 0)
    n, t_first = 0, 0.0
    for message in consumer:
        if not n:
            t_first = time.time()
        n += 1
        try:
            d = json.loads(message.value)
        except ValueError:
            d = None
        pid = d.get("patient_id") if isinstance(d, dict) else None
        state = patients.setdefault(pid, new_state()) if isinstance(pid, str) else None
        for record in step(message.topic, routes[message.topic], d, metadata, state):
            kind = record["record_type"]
            counts[kind] += 1
            producer.send(topics[record["data_type"] if kind == "processed" else kind], key=message.key,
                          value=json.dumps(record).encode())
        if n >= args.expected:
            break
    producer.flush()
    consumer.commit()
    consumer.close()
    producer.close()
    try:
        import crc32c  # noqa: F401  (kafka-python uses it for record-batch checksums if present)
        crc = "c"
    except ImportError:
        crc = "pure-python"
    report(n, t_start, t_first, time.time(), counts, crc32c=crc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
