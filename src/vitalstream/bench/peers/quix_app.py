"""Peer: the same clinical job as a Quix Streams application, written as Quix's docs show.

    python -m vitalstream.bench.peers.quix_app --broker 127.0.0.1:9092 --prefix bench-x- --expected 100000

The four vitals topics are concatenated into one stream (``StreamingDataFrame.concat``, Quix's
documented way to process several topics as one stream with per-key state: the topics are
co-partitioned by patient), then one stateful ``apply`` per message (``stateful=True``: the
patient's state lives in Quix's RocksDB store, backed by its changelog topic) returns the
message's outputs, expanded (``expand=True``) and sent by one ``to_topic`` whose topic is chosen
per record. No branches: Quix clones (pickles) the value at every branch point, so a straight
chain is what its docs recommend for speed. Quix's defaults otherwise (at-least-once, commit
every 5 s, JSON serialisation). Prints one ``BENCH-RESULT {json}`` line.
"""

from __future__ import annotations

import logging
import tempfile
import time
from typing import Any

from quixstreams import Application

from vitalstream.bench.peers.clinical import new_state
from vitalstream.bench.peers.metadata import load_metadata
from vitalstream.bench.peers.transform import METADATA_TOPIC, arguments, input_routes, output_topics, report, step


def counted_application(args: Any) -> tuple[Application, dict[str, Any]]:
    """A Quix ``Application`` with Quix's defaults that stops after ``args.expected`` input
    messages; ``seen`` holds the count and the time of the first one."""
    seen: dict[str, Any] = {"n": 0, "t_first": 0.0}

    def on_processed(topic: str, partition: int, offset: int) -> None:
        if not seen["n"]:
            seen["t_first"] = time.time()
        seen["n"] += 1
        if seen["n"] >= args.expected:
            app.stop()

    app = Application(broker_address=args.broker, consumer_group=args.group, auto_offset_reset="earliest",
                      loglevel=logging.WARNING, on_message_processed=on_processed,
                      state_dir=tempfile.mkdtemp(prefix="quix-state-"))
    return app, seen


def main() -> int:
    args = arguments("peer-quix")
    t_start = time.time()  # the symmetric clock: metadata, subscribe, join, restore count
    metadata = load_metadata(args.broker, args.prefix + METADATA_TOPIC)
    app, seen = counted_application(args)
    routes = input_routes(args.prefix)
    outputs = {kind: app.topic(name, value_serializer="json") for kind, name in output_topics(args.out_prefix).items()}
    counts = dict.fromkeys(("processed", "alert", "news2", "dead_letter"), 0)

    def process(value: dict[str, Any], state: Any) -> list[dict[str, Any]]:  # Quix passes its State
        patient = state.get("patient") or new_state()
        out = step("vitals", value.get("data_type", ""), value, metadata, patient)
        state.set("patient", patient)
        return out

    def topic_for(value: dict[str, Any], key: Any, timestamp: int, headers: Any) -> Any:
        kind = value["record_type"]
        counts[kind] += 1
        return outputs[value["data_type"] if kind == "processed" else kind]

    sdf = None
    for name in routes:
        part = app.dataframe(app.topic(name, value_deserializer="json"))
        sdf = part if sdf is None else sdf.concat(part)
    assert sdf is not None
    sdf = sdf.apply(process, stateful=True, expand=True)
    sdf.to_topic(topic_for)
    app.run()
    report(seen["n"], t_start, seen["t_first"], time.time(), counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
