"""The transform both peers run, written once so they do identical work per message.

It is the smartwatch-vitals job in plain Python, the way a careful engineer would write it
without a framework: parse the JSON, validate the fields and physiological ranges vitalstream
checks (the same limits as ``vitalstream.events.physiology``), enrich with the patient's
metadata row, stamp the processing time, and raise simple threshold alerts. Invalid messages
go to a dead-letter topic with the reason; nothing raises.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

RAW_TOPICS = {  # raw topic -> (data_type, processed topic)
    "heart-rate-data": ("heart_rate", "processed-heart-rate-data"),
    "blood-oxygen-data": ("blood_oxygen", "processed-blood-oxygen-data"),
    "blood-pressure-data": ("blood_pressure", "processed-blood-pressure-data"),
    "fall-detection-data": ("fall_detection", "processed-fall-detection-data"),
}
METADATA_TOPIC = "patient-metadata"
ALERTS_TOPIC = "alerts"
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
    out["original_timestamp"] = d["timestamp"]
    out["processed_timestamp"] = datetime.now(UTC).isoformat()
    row = metadata.get(d["patient_id"])
    if row is not None:
        for name in METADATA_FIELDS:
            out[name] = row.get(name)
    return out


def alerts(d: dict[str, Any], data_type: str) -> list[dict[str, Any]]:
    """Threshold alerts (no persistence or hysteresis: that is what vitalstream adds)."""
    found: list[tuple[str, Any]] = []
    if data_type == "heart_rate":
        hr = d["heart_rate"]
        if hr > 130:
            found.append(("tachycardia", hr))
        elif hr < 40:
            found.append(("bradycardia", hr))
    elif data_type == "blood_oxygen":
        if d["spo2"] < 92:
            found.append(("low_spo2", d["spo2"]))
    elif data_type == "blood_pressure":
        if d["systolic"] >= 180:
            found.append(("hypertensive_crisis", d["systolic"]))
        elif d["systolic"] <= 90:
            found.append(("hypotension", d["systolic"]))
    elif d["fall_detected"]:
        found.append(("fall", True))
    return [{"patient_id": d["patient_id"], "rule": rule, "value": value, "event_id": d["event_id"],
             "event_time": d["timestamp"], "age": d.get("age")} for rule, value in found]


def dead_letter(topic: str, raw: bytes, reason: str) -> dict[str, Any]:
    return {"source_topic": topic, "reason": reason, "value": raw.decode("utf-8", "replace")}


def arguments(group: str) -> argparse.Namespace:
    """The command line both peers take: ``--broker``, ``--prefix``, ``--group``, ``--expected``."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--group", default=group)
    ap.add_argument("--expected", type=int, required=True)
    return ap.parse_args()
