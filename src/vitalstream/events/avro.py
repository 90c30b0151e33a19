"""Avro form of the device gateway message (``com.example.HealthData``), via fastavro.

:data:`STRICT_HEALTH_DATA_SCHEMA` is the device gateway's published schema verbatim: every
field required, so a message without a location cannot be written with it. :data:`HEALTH_DATA_SCHEMA` is ours, the
same record with ``latitude``/``longitude`` as ``["null", "double"]`` defaulting to null — a
backward-compatible evolution that round-trips every message the JSON decoder accepts.
Encoding is schemaless (no container header), as a Kafka value behind a schema registry id.
fastavro is the optional ``avro`` extra and is imported on first use.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from typing import Any

import msgspec

from ..errors import require
from .device import DeviceReading
from .invalid import InvalidEvent

STRICT_HEALTH_DATA_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "HealthData",
    "namespace": "com.example",
    "fields": [
        {"name": "deviceId", "type": "string"},
        {"name": "timestamp", "type": "long"},
        {"name": "heartRate", "type": "int"},
        {"name": "systolic", "type": "int"},
        {"name": "diastolic", "type": "int"},
        {"name": "oxygenSaturation", "type": "int"},
        {"name": "bodyTemperature", "type": "double"},
        {"name": "latitude", "type": "double"},
        {"name": "longitude", "type": "double"},
    ],
}

HEALTH_DATA_SCHEMA: dict[str, Any] = {
    **STRICT_HEALTH_DATA_SCHEMA,
    "fields": [
        *STRICT_HEALTH_DATA_SCHEMA["fields"][:7],
        {"name": "latitude", "type": ["null", "double"], "default": None},
        {"name": "longitude", "type": ["null", "double"], "default": None},
    ],
}


@cache
def _parsed(strict: bool) -> Any:
    fastavro = require("fastavro", "avro")
    schema = STRICT_HEALTH_DATA_SCHEMA if strict else HEALTH_DATA_SCHEMA
    return fastavro.parse_schema(schema)


def encode_avro(reading: DeviceReading, *, strict_schema: bool = False) -> bytes:
    """Schemaless Avro bytes for a decoded reading (``strict_schema`` needs a location)."""
    fastavro = require("fastavro", "avro")
    record = msgspec.to_builtins(reading)
    record.setdefault("latitude", None)
    record.setdefault("longitude", None)
    out = BytesIO()
    try:
        fastavro.schemaless_writer(out, _parsed(strict_schema), record)
    except (ValueError, TypeError) as exc:
        raise InvalidEvent(f"avro: cannot encode with HealthData schema: {exc}") from exc
    return out.getvalue()


def decode_avro(data: bytes, *, strict_schema: bool = False) -> DeviceReading:
    """Decode schemaless Avro bytes and validate them exactly like the JSON form."""
    fastavro = require("fastavro", "avro")
    try:
        record = fastavro.schemaless_reader(BytesIO(data), _parsed(strict_schema), None)
        return msgspec.convert(record, DeviceReading)
    except msgspec.ValidationError as exc:
        raise InvalidEvent.from_validation("avro", str(exc)) from exc
    except (ValueError, TypeError, EOFError, IndexError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"avro: not a HealthData record ({type(exc).__name__})") from exc
