"""The transform every peer runs, written once so they do identical work per message.

It is the smartwatch-vitals job in plain Python, the way a careful engineer would write it
without a framework: validate the fields and physiological ranges vitalstream checks (the same
limits as ``vitalstream.events.physiology``), enrich with the patient's metadata row, stamp the
processing time, then the per-patient clinical work of :mod:`.clinical` (alerts with
persistence, NEWS2). Invalid messages go to a dead-letter topic with the reason; nothing raises.
:func:`step` is the whole job for one message; every output carries ``record_type``, which
:func:`output_topics` maps to its topic.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from vitalstream.bench.child import usage
from vitalstream.bench.peers.clinical import observe

RAW_TOPICS = {  # raw topic -> (data_type, processed topic)
    "heart-rate-data": ("heart_rate", "processed-heart-rate-data"),
    "blood-oxygen-data": ("blood_oxygen", "processed-blood-oxygen-data"),
    "blood-pressure-data": ("blood_pressure", "processed-blood-pressure-data"),
    "fall-detection-data": ("fall_detection", "processed-fall-detection-data"),
}
METADATA_TOPIC = "patient-metadata"
ALERTS_TOPIC = "alerts"
NEWS2_TOPIC = "news2-scores"
DLQ_TOPIC = "dlq-topic"
METADATA_FIELDS = ("age", "gender", "medical_history", "emergency_contact", "blood_type",
                   "allergies", "last_checkup_date")
TIME_MIN = datetime(2000, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(2100, 1, 1, tzinfo=UTC)


def _int_in(d: dict[str, Any], name: str, lo: int, hi: int, lo_open: bool = False) -> str | None:
    v = d.get(name)
    if type(v) is not int:
        return f"{name}: expected an integer"
    if (v <= lo if lo_open else v < lo) or v > hi:
        return f"{name}: out of range"
    return None


def validate(data_type: str, d: Any) -> str | None:
    """The reason ``d`` is invalid for a topic carrying ``data_type``, or None if it is valid."""
    if not isinstance(d, dict):
        return "not a JSON object"
    for name in ("event_id", "patient_id", "timestamp"):
        v = d.get(name)
        if not isinstance(v, str) or not v or len(v) > 256:
            return f"{name}: missing or not a non-empty string"
    if d.get("data_type") != data_type:
        return "data_type: does not match the topic"
    try:
        ts = datetime.fromisoformat(d["timestamp"])
    except ValueError:
        return "timestamp: not ISO-8601"
    if ts.tzinfo is None or not TIME_MIN <= ts < TIME_MAX:
        return "timestamp: needs an offset and must fall in 2000..2100"
    if data_type == "heart_rate":
        return _int_in(d, "heart_rate", 0, 300, lo_open=True)
    if data_type == "blood_oxygen":
        return _int_in(d, "spo2", 0, 100, lo_open=True)
    if data_type == "blood_pressure":
        err = _int_in(d, "systolic", 40, 300) or _int_in(d, "diastolic", 20, 200)
        if err is None and d["diastolic"] >= d["systolic"]:
            err = "diastolic: must be lower than systolic"
        return err
    if type(d.get("fall_detected")) is not bool:
        return "fall_detected: expected true or false"
    return None


def enrich(d: dict[str, Any], data_type: str, metadata: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The processed record: the event, its metadata row's fields, and processing stamps."""
    out = dict(d)
    out["record_type"] = "processed"
    out["original_timestamp"] = d["timestamp"]
    out["processed_timestamp"] = datetime.now(UTC).isoformat()
    row = metadata.get(d["patient_id"])
    if row is not None:
        for name in METADATA_FIELDS:
            out[name] = row.get(name)
    return out


def dead_letter(topic: str, value: Any, reason: str) -> dict[str, Any]:
    shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return {"record_type": "dead_letter", "source_topic": topic, "reason": reason, "value": shown}


def step(raw_topic: str, data_type: str, d: Any, metadata: dict[str, dict[str, Any]],
         state: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One message's outputs: a dead letter, or the processed record then its alerts and
    NEWS2 records. ``state`` is the patient's (from :func:`.clinical.new_state`), updated in place."""
    reason = validate(data_type, d)
    if reason is not None or state is None:
        return [dead_letter(raw_topic, d, reason or "no patient")]
    record = enrich(d, data_type, metadata)
    return [record, *observe(state, record, data_type)]


def input_routes(prefix: str) -> dict[str, str]:
    """The input topics under ``prefix`` → the data type each carries."""
    return {prefix + raw: data_type for raw, (data_type, _) in RAW_TOPICS.items()}


def output_topics(prefix: str) -> dict[str, str]:
    """``record_type`` (and, for processed records, ``data_type``) → the topic it goes to."""
    out = {data_type: prefix + processed for data_type, processed in RAW_TOPICS.values()}
    out.update(alert=prefix + ALERTS_TOPIC, news2=prefix + NEWS2_TOPIC, dead_letter=prefix + DLQ_TOPIC)
    return out


def topic_of(record: dict[str, Any], topics: dict[str, str]) -> str:
    kind = record["record_type"]
    return topics[record["data_type"] if kind == "processed" else kind]


def report(events: int, t_start: float, t_first: float, t_end: float, outputs: dict[str, int],
           **extra: Any) -> None:
    """Print the ``BENCH-RESULT`` line: the symmetric clock is ``t_start`` (before the first
    Kafka client: metadata load, subscribe, group join and state restore count) to ``t_end``
    (after the last commit and the shutdown)."""
    wall = t_end - t_start
    result = {"events": events, "t_start": t_start, "t_first": t_first, "t_last": t_end, "wall_s": wall,
              "events_per_s": events / wall if wall > 0 else 0.0,
              "events_per_s_from_first": events / (t_end - t_first) if t_first and t_end > t_first else 0.0,
              "startup_s": (t_first - t_start) if t_first else None, "outputs": outputs, **extra, **usage()}
    print("BENCH-RESULT " + json.dumps(result), flush=True)


def arguments(group: str) -> argparse.Namespace:
    """The command line every peer takes: ``--broker``, ``--prefix`` (of the input topics),
    ``--out-prefix`` (of the outputs; default the same), ``--group``, ``--expected``."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--out-prefix", default=None)
    ap.add_argument("--group", default=group)
    ap.add_argument("--expected", type=int, required=True)
    args = ap.parse_args()
    if args.out_prefix is None:
        args.out_prefix = args.prefix
    return args
