"""Which schema, decoder, normaliser and partition key belong to each topic.

Decoders are built once (``msgspec.json.Decoder``); heart-rate stream topics decode with
``strict=False`` because that producer sent numbers as JSON strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from .. import topics as t
from . import device, heartrate, notes, smartwatch, vitals
from .canonical import Vital

Normaliser = Callable[[str, msgspec.Struct], list[Vital]]
KeyOf = Callable[[msgspec.Struct], str]


@dataclass(frozen=True, slots=True)
class TopicCodec:
    schema: type[msgspec.Struct]
    decode: Callable[[bytes], msgspec.Struct]
    key: KeyOf
    normalise: Normaliser | None = None  # None: reference data / notes, not vitals


def _decoder(
    schema: type[msgspec.Struct], strict: bool = True
) -> Callable[[bytes], msgspec.Struct]:
    return msgspec.json.Decoder(schema, strict=strict).decode


def _codec(schema: type[msgspec.Struct], key: KeyOf, normalise: Normaliser | None = None,
           *, strict: bool = True) -> TopicCodec:
    return TopicCodec(schema, _decoder(schema, strict), key, normalise)


_sw_plain = _decoder(smartwatch.SmartwatchEvent)
_sw_labelled = _decoder(smartwatch.SmartwatchEventLabelled)


def _decode_smartwatch(value: bytes) -> msgspec.Struct:
    # Only the labelled variant has spaces in its keys: substring tests pick the decoder
    # without a generic (slow) dict parse; two keys, so a message missing one still gets
    # the error message of its own variant.
    if b'"Device ID"' in value or b'"Heart Rate"' in value:
        return _sw_labelled(value)
    return _sw_plain(value)


_notes_json = _decoder(notes.MedicalEntry)


def _decode_notes(value: bytes) -> msgspec.Struct:
    if value.lstrip()[:1] == b"{":
        return _notes_json(value)
    return notes.from_csv_row(value)


def _vital_event(topic: str, event: msgspec.Struct) -> list[Vital]:
    return vitals.to_vitals(event)  # type: ignore[arg-type]


def _patient(event: msgspec.Struct) -> str:
    return event.patient_id  # type: ignore[attr-defined, no-any-return]


def _device(event: msgspec.Struct) -> str:
    return event.device_id  # type: ignore[attr-defined, no-any-return]


def _user(event: msgspec.Struct) -> str:
    return str(event.user_id)  # type: ignore[attr-defined]


def _userid(event: msgspec.Struct) -> str:
    return str(event.userid)  # type: ignore[attr-defined]


def _activity(event: msgspec.Struct) -> str:
    return str(event.activity_id)  # type: ignore[attr-defined]


_device_vitals: Normaliser = device.to_vitals  # type: ignore[assignment]
_hr_vitals: Normaliser = heartrate.to_vitals  # type: ignore[assignment]
_sw_vitals: Normaliser = smartwatch.to_vitals  # type: ignore[assignment]

CODECS: dict[str, TopicCodec] = {
    t.HEART_RATE: _codec(vitals.HeartRateEvent, _patient, _vital_event),
    t.BLOOD_OXYGEN: _codec(vitals.BloodOxygenEvent, _patient, _vital_event),
    t.BLOOD_PRESSURE: _codec(vitals.BloodPressureEvent, _patient, _vital_event),
    t.FALL_DETECTION: _codec(vitals.FallDetectionEvent, _patient, _vital_event),
    t.PATIENT_METADATA: _codec(vitals.PatientMetadata, _patient),
    t.DEVICE_DATA: _codec(device.DeviceReading, _device, _device_vitals),
    t.MEDICAL_ENTRIES: TopicCodec(notes.MedicalEntry, _decode_notes, _patient),
    t.HR_DATA: _codec(heartrate.HeartRateReading, _user, _hr_vitals, strict=False),
    t.HR_USERS: _codec(heartrate.User, _userid, strict=False),
    t.HR_ACTIVITIES: _codec(heartrate.Activity, _activity, strict=False),
    t.SMARTWATCH: TopicCodec(smartwatch.SmartwatchEvent, _decode_smartwatch, _device, _sw_vitals),
    t.USER_PROFILES: _codec(smartwatch.UserProfile, _device),
}
