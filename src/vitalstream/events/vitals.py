"""Smartwatch vitals: one topic per vital plus patient metadata (keyed by ``patient_id``).

Wire shape of a vital: ``{"event_id": uuid4, "patient_id": str, "timestamp":
"2024-04-01T08:00:00.000Z", "data_type": "heart_rate", "heart_rate": 72}``. ``data_type`` is
one of ``heart_rate | blood_oxygen | blood_pressure | fall_detection`` and must match the topic.
Unknown extra fields are ignored (forward compatibility); missing or mistyped ones are not.

The client's ``event_id`` is scoped to the patient (:func:`~vitalstream.events.ids.scoped_event_id`):
the canonical ``event_id`` is derived from (patient_id, event_id) and the client's id is kept as
``source_event_id``, so reusing another patient's id reaches nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from .canonical import Vital
from .ids import scoped_event_ids
from .physiology import (
    Age,
    Diastolic,
    HeartRate,
    NonEmpty,
    SpO2,
    Systolic,
    UtcDatetime,
    as_utc,
    check_pressure,
    check_time,
)

Id = NonEmpty


class _VitalFields(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    event_id: Id
    patient_id: Id
    timestamp: UtcDatetime

    def __post_init__(self) -> None:
        check_time(self.timestamp)


class HeartRateEvent(_VitalFields, frozen=True, kw_only=True):
    data_type: Literal["heart_rate"]
    heart_rate: HeartRate


class BloodOxygenEvent(_VitalFields, frozen=True, kw_only=True):
    data_type: Literal["blood_oxygen"]
    spo2: SpO2


class BloodPressureEvent(_VitalFields, frozen=True, kw_only=True):
    data_type: Literal["blood_pressure"]
    systolic: Systolic
    diastolic: Diastolic

    def __post_init__(self) -> None:
        check_time(self.timestamp)
        check_pressure(self.systolic, self.diastolic)


class FallDetectionEvent(_VitalFields, frozen=True, kw_only=True):
    data_type: Literal["fall_detection"]
    fall_detected: bool


class PatientMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """Reference record on ``patient-metadata`` (compacted; latest per patient wins).

    ``last_checkup_date`` is an ISO date string (``YYYY-MM-DD``); free-text fields are kept as
    sent. ``medical_history`` and ``allergies`` are free text such as ``"COPD; hypertension"``.
    """

    patient_id: Id
    age: Age
    gender: str
    medical_history: str
    emergency_contact: str
    blood_type: str
    allergies: str
    last_checkup_date: str
    device_id: str


VitalEvent = HeartRateEvent | BloodOxygenEvent | BloodPressureEvent | FallDetectionEvent


def to_vitals(topic: str, events: Sequence[VitalEvent]) -> list[Vital]:
    """One Vital per event, in order (the ids of a run are computed together)."""
    ids = scoped_event_ids([event.patient_id for event in events], [event.event_id for event in events])
    return [_vital(event, event_id) for event, event_id in zip(events, ids, strict=True)]


def _vital(event: VitalEvent, event_id: str) -> Vital:
    # Keyword arguments spelt out per type: building a Vital from a shared dict (``**common``)
    # costs several times as much, and this runs for every smartwatch vital.
    pid, client_id = event.patient_id, event.event_id
    t = as_utc(event.timestamp)
    if type(event) is HeartRateEvent:
        return Vital(event_id=event_id, source_event_id=client_id, patient_id=pid, source="vitals",
                     event_time=t, heart_rate=event.heart_rate)
    if type(event) is BloodOxygenEvent:
        return Vital(event_id=event_id, source_event_id=client_id, patient_id=pid, source="vitals",
                     event_time=t, spo2=event.spo2)
    if type(event) is BloodPressureEvent:
        return Vital(event_id=event_id, source_event_id=client_id, patient_id=pid, source="vitals",
                     event_time=t, systolic=event.systolic, diastolic=event.diastolic)
    if type(event) is FallDetectionEvent:
        return Vital(event_id=event_id, source_event_id=client_id, patient_id=pid, source="vitals",
                     event_time=t, fall_detected=event.fall_detected)
    raise TypeError(f"not a smartwatch vital event: {type(event).__name__}")
