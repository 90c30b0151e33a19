"""The canonical, normalised records every source becomes.

Units are fixed: temperature in °C, heart/respiration rate per minute, SpO2 in %, blood
pressure in mmHg. Times are timezone-aware UTC ``datetime``s; ``event_time`` is when the
device measured, ``processed_time`` when vitalstream processed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

Source = Literal["vitals", "device", "heart-rate", "smartwatch"]


class Vital(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True, gc=False):
    """One normalised measurement (or a combined device reading) of one patient.

    ``patient_id`` is the smartwatch-vitals patient id, the gateway's device id, the heart-rate
    stream's user id (as a string) or the smartwatch events' user id (device id when no
    profile maps it). Fields a source does not
    measure stay ``None``: NEWS2 reports them as missing rather than scoring them 0.

    ``event_id`` is the event's identity and always includes its source: for a client that
    sends its own id it is :func:`~vitalstream.events.ids.scoped_event_id` of (patient, the
    client's id), which is kept as ``source_event_id``; for the others it is derived from
    (topic, device or user, time, values). No event can take another patient's identity.
    """

    event_id: str
    source_event_id: str | None = None  # the client's own event_id, when it sent one
    patient_id: str
    source: Source
    event_time: datetime
    heart_rate: int | None = None
    spo2: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    temperature_c: float | None = None
    respiratory_rate: int | None = None
    consciousness: str | None = None  # "A" (alert) or one of C, V, P, U (ACVPU)
    on_oxygen: bool | None = None
    fall_detected: bool | None = None
    steps: int | None = None
    sleeping: bool | None = None
    activity_id: int | None = None
    device_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class ProcessedVital(Vital, frozen=True, omit_defaults=True, kw_only=True):
    """A validated, normalised vital enriched with the patient's metadata at processing time.

    This is the value on every ``processed-*`` topic and the row shape of the processed
    warehouse tables. Metadata fields are ``None`` when no metadata had arrived yet; the
    warehouse views join the *current* metadata at query time, so late metadata still shows.
    """

    data_type: str  # heart_rate | blood_oxygen | blood_pressure | fall_detection | temperature | smartwatch | device
    original_timestamp: str  # the timestamp exactly as the source sent it
    processed_timestamp: datetime
    user_id: str | None = None  # smartwatch events: the profile's user for the device
    age: int | None = None
    gender: str | None = None
    medical_history: str | None = None
    emergency_contact: str | None = None
    blood_type: str | None = None
    allergies: str | None = None
    last_checkup_date: str | None = None


# The one declaration above, read by everything else: the processor stamps the record fields
# per batch and splices the patient's enrichment fragment; the warehouse derives its columns.
RECORD_STAMPS: tuple[str, ...] = ("data_type", "original_timestamp", "processed_timestamp")
ENRICHMENT: tuple[str, ...] = tuple(
    f for f in ProcessedVital.__struct_fields__
    if f not in Vital.__struct_fields__ and f not in RECORD_STAMPS
)
# The enrichment fields alone (defaults None, omitted when None), for encoding a fragment.
Enrichment = msgspec.defstruct(
    "Enrichment",
    [(f.name, f.type, None) for f in msgspec.structs.fields(ProcessedVital) if f.name in ENRICHMENT],
    omit_defaults=True, frozen=True, kw_only=True, module=__name__,
)
_enc = msgspec.json.Encoder()


def enrichment_fragment(reference: object) -> bytes:
    """``b',"age":70,...'``: the enrichment fields a reference record (patient metadata, user
    profile) carries, ready to splice before a processed record's closing brace."""
    values = {f: getattr(reference, f) for f in ENRICHMENT if hasattr(reference, f)}
    body = _enc.encode(Enrichment(**values))
    return b"," + body[1:-1] if len(body) > 2 else b""


Severity = Literal["low", "medium", "high", "critical"]
AlertState = Literal["raised", "escalated", "cleared"]


class Alert(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """One alert transition on the ``alerts`` topic (key: patient_id).

    ``alert_id`` is deterministic (derived from patient, rule, state and the triggering
    event), so a replayed batch re-produces the same id and the warehouse upsert keeps one row.
    """

    alert_id: str
    patient_id: str
    rule: str  # low_spo2 | tachycardia | bradycardia | hypertensive_crisis | fever | fall
    severity: Severity
    state: AlertState
    values: dict[str, float | int | bool]
    event_time: datetime  # event time of the triggering reading
    raise_time: datetime  # processing time the transition was decided
    event_id: str  # the triggering event
    message: str = ""


class News2Score(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """NEWS2 from the latest fresh value of each parameter (on the ``news2-scores`` topic)."""

    patient_id: str
    total: int
    band: Literal["low", "low-medium", "medium", "high"]
    subscores: dict[str, int]  # parameter -> 0..3, only for parameters present
    missing: list[str]  # parameters without a fresh value: the score is partial if non-empty
    partial: bool
    scale: int  # SpO2 scale 1 or 2
    event_time: datetime  # newest event time among the inputs
    computed_time: datetime
    score_id: str  # deterministic: patient + event_time
