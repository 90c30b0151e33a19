"""Calibration: Quix Streams' minimal app (a filter to a topic) on the peers' input.

    python -m vitalstream.bench.peers.quix_filter --broker 127.0.0.1:9092 --prefix bench-x- --expected 100000

One ``StreamingDataFrame`` per vitals topic, as Quix's multi-topic example does, each a
``filter`` on its measured field and a ``to_topic``. It measures
Quix's own per-message cost (deserialise, run the chain, serialise, produce, commit), to which
the clinical peer adds its work; docs/benchmarks.md sets it beside the published figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vitalstream.bench.peers.quix_app import counted_application
from vitalstream.bench.peers.transform import RAW_TOPICS, arguments, report

# data_type -> a cheap predicate on the topic's measured field
FILTERS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "heart_rate": lambda v: v["heart_rate"] > 100, "blood_oxygen": lambda v: v["spo2"] < 95,
    "blood_pressure": lambda v: v["systolic"] > 140, "fall_detection": lambda v: bool(v["fall_detected"]),
}


def main() -> int:
    args = arguments("peer-quix-filter")
    t_start = time.time()
    app, seen = counted_application(args)
    out = app.topic(args.out_prefix + "filtered", value_serializer="json")
    for raw, (data_type, _) in RAW_TOPICS.items():
        sdf = app.dataframe(app.topic(args.prefix + raw, value_deserializer="json"))
        sdf.filter(FILTERS[data_type]).to_topic(out)
    app.run()
    report(seen["n"], t_start, seen["t_first"], time.time(), {})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
