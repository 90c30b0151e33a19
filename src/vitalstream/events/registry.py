"""Which schema, decoder, normaliser and partition key belong to each topic.

Decoders are built once (``msgspec.json.Decoder``); seed-3 topics decode with
``strict=False`` because that producer sent numbers as JSON strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from .. import topics as t
from . import device, heartrate, notes, seed0, smartwatch
from .canonical import Vital

Normaliser = Callable[[str, msgspec.Struct], list[Vital]]
KeyOf = Callable[[msgspec.Struct], str]


@dataclass(frozen=True, slots=True)
class TopicCodec:
    schema: type[msgspec.Struct]
    decode: Callable[[bytes], msgspec.Struct]
    key: KeyOf
    normalise: Normaliser | None = None  # None: reference data / notes, not vitals


def _decoder(schema: type[msgspec.Struct], strict: bool = True) -> Callable[[bytes], msgspec.Struct]:
    return msgspec.json.Decoder(schema, strict=strict).decode


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


def _seed0(topic: str, event: msgspec.Struct) -> list[Vital]:
    return seed0.to_vitals(event)  # type: ignore[arg-type]


def _patient(event: msgspec.Struct) -> str:
    return event.patient_id  # type: ignore[attr-defined, no-any-return]


def _device(event: msgspec.Struct) -> str:
    return event.device_id  # type: ignore[attr-defined, no-any-return]


CODECS: dict[str, TopicCodec] = {
    t.HEART_RATE: TopicCodec(seed0.HeartRateEvent, _decoder(seed0.HeartRateEvent), _patient, _seed0),
    t.BLOOD_OXYGEN: TopicCodec(seed0.BloodOxygenEvent, _decoder(seed0.BloodOxygenEvent), _patient, _seed0),
    t.BLOOD_PRESSURE: TopicCodec(seed0.BloodPressureEvent, _decoder(seed0.BloodPressureEvent), _patient, _seed0),
    t.FALL_DETECTION: TopicCodec(seed0.FallDetectionEvent, _decoder(seed0.FallDetectionEvent), _patient, _seed0),
    t.PATIENT_METADATA: TopicCodec(seed0.PatientMetadata, _decoder(seed0.PatientMetadata), _patient),
    t.DEVICE_DATA: TopicCodec(device.DeviceReading, _decoder(device.DeviceReading), _device,
                              device.to_vitals),  # type: ignore[arg-type]
    t.MEDICAL_ENTRIES: TopicCodec(notes.MedicalEntry, _decode_notes, _patient),
    t.HR_DATA: TopicCodec(heartrate.HeartRateReading, _decoder(heartrate.HeartRateReading, False),
                          lambda e: str(e.user_id), heartrate.to_vitals),  # type: ignore[attr-defined, arg-type]
    t.HR_USERS: TopicCodec(heartrate.User, _decoder(heartrate.User, False), lambda e: str(e.userid)),  # type: ignore[attr-defined]
    t.HR_ACTIVITIES: TopicCodec(heartrate.Activity, _decoder(heartrate.Activity, False),
                                lambda e: str(e.activity_id)),  # type: ignore[attr-defined]
    t.SMARTWATCH: TopicCodec(smartwatch.SmartwatchEvent, _decode_smartwatch, _device,
                             smartwatch.to_vitals),  # type: ignore[arg-type]
    t.USER_PROFILES: TopicCodec(smartwatch.UserProfile, _decoder(smartwatch.UserProfile), _device),
}
