"""How big the heart-rate stream's events are as JSON and as Avro: measured, not estimated.

:func:`measure` encodes the same simulated events (``hr-data-topic``'s wire shape) each way
and counts bytes: JSON as the seed's producer sent it (every number a string), compact JSON
with numbers, Avro per message (schemaless, as a Kafka value behind a schema-registry id:
+5 bytes of framing each), and both as one compressed batch (JSON lines gzip; an Avro object
container file with deflate), which is closer to what a lake file stores.
"""

from __future__ import annotations

import gzip
import io
from itertools import islice
from typing import Any

import msgspec

from ..errors import require

HEART_RATE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "HeartRateEvent", "namespace": "vitalstream.heartrate",
    "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "heart_rate", "type": "int"},
        {"name": "timestamp", "type": "long"},
        {"name": "meta", "type": {"type": "record", "name": "Meta", "fields": [
            {"name": "activity_id", "type": "long"},
            {"name": "location", "type": ["null", {"type": "record", "name": "Location", "fields": [
                {"name": "latitude", "type": "double"}, {"name": "longitude", "type": "double"}]}],
             "default": None},
        ]}},
    ],
}
REGISTRY_FRAMING = 5  # magic byte + 4-byte schema id before each Avro value on Kafka


def _typed(event: dict[str, Any]) -> dict[str, Any]:
    """The seed's all-strings message with its numbers as numbers."""
    meta = event["meta"]
    loc = meta.get("location")
    return {"user_id": int(event["user_id"]), "heart_rate": int(event["heart_rate"]),
            "timestamp": int(event["timestamp"]),
            "meta": {"activity_id": int(meta["activity_id"]),
                     "location": None if loc is None else {"latitude": float(loc["latitude"]),
                                                           "longitude": float(loc["longitude"])}}}


def _as_strings(event: dict[str, Any]) -> dict[str, Any]:
    loc = event["meta"]["location"]
    return {"user_id": str(event["user_id"]), "heart_rate": str(event["heart_rate"]),
            "timestamp": str(event["timestamp"]),
            "meta": {"activity_id": str(event["meta"]["activity_id"]),
                     "location": None if loc is None else {k: str(v) for k, v in loc.items()}}}


def sample_events(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` simulated heart-rate events (typed)."""
    from ..simulate.heartrate import HeartRateSimulator
    from ..topics import HR_DATA

    sim = HeartRateSimulator(patients=50, seed=seed)
    readings = (o for o in sim.events() if o.topic == HR_DATA)  # not the users' moves
    return [_typed(msgspec.json.decode(o.value)) for o in islice(readings, n)]


def measure(n: int = 10_000, seed: int = 0) -> list[dict[str, Any]]:
    """Rows ``{encoding, bytes, bytes_per_event, vs_json}`` for ``n`` simulated events."""
    fastavro = require("fastavro", "avro")
    events = sample_events(n, seed)
    enc = msgspec.json.Encoder()
    schema = fastavro.parse_schema(HEART_RATE_EVENT_SCHEMA)

    def avro_one(e: dict[str, Any]) -> int:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, e)
        return len(buf.getvalue()) + REGISTRY_FRAMING

    json_lines = b"\n".join(enc.encode(e) for e in events)
    container = io.BytesIO()
    fastavro.writer(container, schema, events, codec="deflate")
    sizes = {
        "json, numbers as strings (the seed's producer)": sum(len(enc.encode(_as_strings(e))) for e in events),
        "json": sum(len(enc.encode(e)) for e in events),
        "avro per message (+5 bytes registry framing)": sum(avro_one(e) for e in events),
        "json lines, gzip (one batch)": len(gzip.compress(json_lines, 6)),
        "avro container, deflate (one batch)": len(container.getvalue()),
    }
    base = sizes["json"]
    return [{"encoding": k, "events": n, "bytes": v, "bytes_per_event": round(v / n, 1),
             "vs_json": round(v / base, 3)} for k, v in sizes.items()]


__all__ = ["HEART_RATE_EVENT_SCHEMA", "measure", "sample_events"]
