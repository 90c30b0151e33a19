"""Kafka's own ceiling, measured with confluent-kafka directly (no vitalstream code between).

Topics are created under a per-run prefix, so a benchmark never touches another user's
topics on a shared broker. Run in child processes by :mod:`vitalstream.bench.child`.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import TopicError
from .inputs import load_inputs

PARTITIONS = 6


def create_topics(broker: str, names: list[str], partitions: int = PARTITIONS) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})
    existing = set(admin.list_topics(timeout=10).topics)
    todo = [NewTopic(n, partitions, 1, config={"retention.ms": "-1"}) for n in names if n not in existing]
    for fut in admin.create_topics(todo).values() if todo else ():
        fut.result(30)


def delete_topics(broker: str, prefix: str) -> int:
    """Delete every topic whose name starts with ``prefix`` (the bench's own, per run)."""
    from confluent_kafka.admin import AdminClient

    if not prefix.startswith("bench-"):
        raise TopicError("only the benchmark's own bench-* topics may be deleted")
    admin = AdminClient({"bootstrap.servers": broker})
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    for fut in admin.delete_topics(names).values() if names else ():
        fut.result(30)
    return len(names)


def produce(broker: str, inputs_path: str, prefix: str = "", reference: bool = True) -> dict[str, Any]:
    """Produce the inputs (reference first) to ``prefix + topic``; acks=all, idempotent."""
    from confluent_kafka import Producer

    inputs = load_inputs(inputs_path)
    topics = sorted({prefix + m.topic for m in inputs.events} | {prefix + m.topic for m in inputs.reference})
    create_topics(broker, topics)
    p = Producer({"bootstrap.servers": broker, "linger.ms": 20, "enable.idempotence": True,
                  "batch.size": 1_000_000, "queue.buffering.max.messages": 500_000,
                  "compression.type": "none", "partitioner": "consistent"})

    def send_all(items: list[Any]) -> None:
        produce_ = p.produce
        for m in items:
            while True:
                try:
                    produce_(prefix + m.topic, m.value, m.key, timestamp=m.timestamp_ms)
                    break
                except BufferError:
                    p.poll(0.05)
        p.flush(60)

    if reference:
        send_all(inputs.reference)
    t0 = time.time()
    send_all(inputs.events)
    t1 = time.time()
    n = len(inputs.events)
    return {"events": n, "t_first": t0, "t_last": t1, "wall_s": t1 - t0, "events_per_s": n / (t1 - t0)}


def consume_discard(broker: str, topics: list[str], expected: int, group: str) -> dict[str, Any]:
    """Read ``expected`` messages with ``consume(10000)`` and drop them; commit at the end."""
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": broker, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "fetch.max.bytes": 52_428_800})
    c.subscribe(topics)
    n, t0 = 0, 0.0
    deadline = time.monotonic() + 600
    while n < expected and time.monotonic() < deadline:
        msgs = c.consume(10_000, timeout=0.5)
        if msgs:
            t0 = t0 or time.time()
            n += sum(1 for m in msgs if not m.error())
    c.commit(asynchronous=False)
    t1 = time.time()
    c.close()
    wall = t1 - t0 if t0 else 0.0
    return {"events": n, "wall_s": wall, "events_per_s": n / wall if wall else 0.0}


def commit_ends(broker: str, group: str, topics: list[str]) -> None:
    """Commit ``group``'s position at the current end of ``topics`` (a group with no members
    may be committed to directly): a run on a shared broker then reads only its own records."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker, "group.id": group, "enable.auto.commit": False})
    try:
        md = c.list_topics(timeout=10).topics
        tps = []
        for t in topics:
            if t not in md:
                continue
            for p in md[t].partitions:
                _, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)
                tps.append(TopicPartition(t, p, hi))
        if tps:
            c.commit(offsets=tps, asynchronous=False)
    finally:
        c.close()


def watermarks(broker: str, names: list[str] | None = None, contains: str | None = None) -> dict[str, Any]:
    """``{"topics": {topic: [sum of low, sum of high watermarks]}}`` for ``names`` (missing
    ones left out) and every topic whose name contains ``contains``: records written = the
    growth of the high sums."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker, "group.id": "bench-watermarks", "enable.auto.commit": False})
    try:
        md = c.list_topics(timeout=10).topics
        wanted = [t for t in md if (names and t in names) or (contains and contains in t)]
        out: dict[str, Any] = {}
        for t in wanted:
            lo_sum = hi_sum = 0
            for p in md[t].partitions:
                lo, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)
                lo_sum, hi_sum = lo_sum + lo, hi_sum + hi
            out[t] = [lo_sum, hi_sum]
        return {"topics": out}
    finally:
        c.close()


def delete_named(broker: str, names: list[str]) -> dict[str, Any]:
    """Delete these topics; only names holding ``bench-`` (a framework's changelog topics for
    a bench group are named after the group, not by our prefix)."""
    from confluent_kafka.admin import AdminClient

    names = [n for n in names if "bench-" in n]
    admin = AdminClient({"bootstrap.servers": broker})
    for fut in admin.delete_topics(names).values() if names else ():
        fut.result(30)
    return {"deleted": len(names)}


def delete_topics_result(broker: str, prefix: str) -> dict[str, Any]:
    return {"deleted": delete_topics(broker, prefix)}


def create_topics_result(broker: str, names: list[str]) -> dict[str, Any]:
    create_topics(broker, names)
    return {"created": len(names)}
