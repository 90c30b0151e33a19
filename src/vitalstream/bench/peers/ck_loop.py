"""Peer: the per-message loop a user would write with confluent-kafka and orjson.

    python -m vitalstream.bench.peers.ck_loop --broker 127.0.0.1:9092 --prefix bench-x- --expected 100000

``consumer.poll()`` one message at a time, ``orjson.loads``, the shared :func:`.transform.step`
with the patient's state in a dict, ``producer.produce`` per output (``linger.ms=5`` so the
producer batches; ``poll(0)`` serves its delivery reports), confluent-kafka's default
auto-commit every 5 s; flush and a final commit at the end. Reasonably written, not a straw
man. The state lives only in memory: a restart starts every patient afresh (vitalstream and
the Quix app restore theirs). Prints one ``BENCH-RESULT {json}`` line.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer

from vitalstream.bench.peers.clinical import new_state
from vitalstream.bench.peers.metadata import load_metadata
from vitalstream.bench.peers.transform import METADATA_TOPIC, arguments, input_routes, output_topics, report, step


def main() -> int:
    args = arguments("peer-ck-loop")
    t_start = time.time()
    metadata = load_metadata(args.broker, args.prefix + METADATA_TOPIC)
    routes = input_routes(args.prefix)
    topics = output_topics(args.out_prefix)
    consumer = Consumer({"bootstrap.servers": args.broker, "group.id": args.group, "auto.offset.reset": "earliest"})
    producer = Producer({"bootstrap.servers": args.broker, "linger.ms": 5})
    consumer.subscribe(list(routes))
    patients: dict[str, dict[str, Any]] = {}
    counts = dict.fromkeys(("processed", "alert", "news2", "dead_letter"), 0)
    n, t_first = 0, 0.0
    deadline = time.monotonic() + 900
    while n < args.expected and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is None or msg.error():
            continue
        if not n:
            t_first = time.time()
        n += 1
        topic = msg.topic()
        try:
            d = orjson.loads(msg.value())
        except orjson.JSONDecodeError:
            d = None
        pid = d.get("patient_id") if isinstance(d, dict) else None
        state = patients.setdefault(pid, new_state()) if isinstance(pid, str) else None
        for record in step(topic, routes[topic], d, metadata, state):
            kind = record["record_type"]
            counts[kind] += 1
            out = topics[record["data_type"] if kind == "processed" else kind]
            while True:
                try:
                    producer.produce(out, orjson.dumps(record), key=msg.key())
                    break
                except BufferError:  # the local queue is full: let it drain
                    producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    consumer.commit(asynchronous=False)
    consumer.close()
    report(n, t_start, t_first, time.time(), counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
