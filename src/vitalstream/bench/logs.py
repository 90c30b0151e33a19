"""The log's own ceiling (consume-and-discard) and the processor alone, embedded and on Kafka."""

from __future__ import annotations

from typing import Any

from . import child

_STAGES = "vitalstream.bench.stages"
_KRAW = "vitalstream.bench.kafkaraw"


def limit(run: Any) -> None:
    """``limit_embedded``, ``processor_embedded`` (the processor over the same pre-loaded log),
    and ``limit_kafka`` when a broker is there."""
    url = run._sqlite("limit")
    run.say("embedded log: produce, consume-and-discard, then the processor alone")
    prod = child.run(f"{_STAGES}:produce", log_url=url, inputs_path=run.mixed_path)
    cons = child.run(f"{_STAGES}:consume_discard", log_url=url, topics=run.mixed_topics, expected=run.plan.events)
    run.record("limit_embedded", cons, produce_events_per_s=prod["events_per_s"],
               note=f"produce {prod['events_per_s']:,.0f}/s; consume-and-discard is the limit")
    proc = child.run(f"{_STAGES}:process", log_url=url, events=run.plan.events, expected=run.mixed_records,
                     checkpoints=[run.mixed_records // 5, run.mixed_records])
    run.record("processor_embedded", proc, note="processor alone on the pre-loaded log")
    if run.broker:
        run._guard("limit_kafka", lambda: limit_kafka(run, run.broker))


def limit_kafka(run: Any, broker: str) -> None:
    prefix = f"bench-{run.run_id}-limit-"
    run.say("Kafka: produce and consume-and-discard with confluent-kafka")
    try:
        prod = child.run(f"{_KRAW}:produce", broker=broker, inputs_path=run.mixed_path, prefix=prefix)
        cons = child.run(f"{_KRAW}:consume_discard", broker=broker, topics=[prefix + t for t in run.mixed_topics],
                         expected=run.plan.events, group=prefix + "discard")
    finally:
        child.run(f"{_KRAW}:delete_topics_result", broker=broker, prefix=prefix)
    run.record("limit_kafka", cons, produce_events_per_s=prod["events_per_s"],
               note=f"produce {prod['events_per_s']:,.0f}/s; raw confluent-kafka, no compression")
