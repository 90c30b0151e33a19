"""Which raw topic an event belongs to, told from its shape.

=====================================================  ======================================
shape                                                  topic
=====================================================  ======================================
``data_type`` = heart_rate / blood_oxygen / ...         that vital's smartwatch-vitals topic
``deviceId``                                           ``device_data`` (device gateway)
``patient_id`` + ``medical_entry``                      ``medical-entries`` (clinical notes)
``user_id`` + ``meta``                                  ``hr-data-topic`` (heart-rate stream)
``device_id`` + ``hr``, or ``"Device ID"``              ``smartwatch-events``
=====================================================  ======================================

Reference topics (patient metadata, users, activities, profiles) are never guessed: they
are posted to ``/topics/{topic}`` or loaded from files with an explicit ``--topic``.
"""

from __future__ import annotations

from typing import Any

from .. import topics as t
from ..errors import InvalidData

DATA_TYPE_TOPICS: dict[str, str] = {
    "heart_rate": t.HEART_RATE,
    "blood_oxygen": t.BLOOD_OXYGEN,
    "blood_pressure": t.BLOOD_PRESSURE,
    "fall_detection": t.FALL_DETECTION,
}

#: Topics an edge may write to explicitly (``POST /topics/{topic}``, ``ingest --topic``).
WRITABLE_TOPICS: tuple[str, ...] = t.RAW_TOPICS + t.REFERENCE_TOPICS


class Unroutable(InvalidData):
    """The event's shape matches no raw topic; ``reason`` says what was expected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field: str | None = None


def route(event: Any) -> str:
    """The raw topic for one parsed JSON value, or :class:`Unroutable`."""
    if type(event) is not dict:
        raise Unroutable(f"an event must be a JSON object, not {_json_type(event)}")
    data_type = event.get("data_type")
    if data_type is not None:
        topic = DATA_TYPE_TOPICS.get(data_type) if type(data_type) is str else None
        if topic is None:
            raise Unroutable("data_type: must be one of " + ", ".join(DATA_TYPE_TOPICS))
        return topic
    if "deviceId" in event:
        return t.DEVICE_DATA
    if "medical_entry" in event:
        return t.MEDICAL_ENTRIES
    if "meta" in event and "user_id" in event:
        return t.HR_DATA
    if "Device ID" in event or ("device_id" in event and "hr" in event):
        return t.SMARTWATCH
    raise Unroutable(
        "unknown event shape: expected a smartwatch vital (data_type), a device message "
        "(deviceId), a medical entry (patient_id, medical_entry), a heart-rate reading "
        "(user_id, meta) or a smartwatch event (device_id, hr / \"Device ID\"); "
        "reference data goes to POST /topics/{topic}"
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__
