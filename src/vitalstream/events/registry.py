"""Which schema, decoder, normaliser and partition key belong to each topic.

Decoders are built once (``msgspec.json.Decoder``); heart-rate stream topics decode with
``strict=False`` because that producer sent numbers as JSON strings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

import msgspec

from .. import topics as t
from . import device, heartrate, notes, smartwatch, vitals
from .canonical import Vital

# A run of events of one topic -> exactly one Vital per event, in order (the processor passes a
# run, :func:`vitalstream.events.normalise` one event)
Normaliser = Callable[[str, Sequence[msgspec.Struct]], list[Vital]]
KeyOf = Callable[[msgspec.Struct], str]
S = TypeVar("S", bound=msgspec.Struct)


@dataclass(frozen=True, slots=True)
class TopicCodec:
    schema: type[msgspec.Struct]
    decode: Callable[[bytes], msgspec.Struct]
    key: KeyOf
    normalise: Normaliser | None = None  # None: reference data / notes, not vitals


def _decoder(schema: type[S], strict: bool = True) -> Callable[[bytes], S]:
    return msgspec.json.Decoder(schema, strict=strict).decode


def _checked(schema: type[msgspec.Struct], decode: Callable[[bytes], S], key: Callable[[S], str],
             normalise: Callable[[str, Sequence[S]], list[Vital]] | None = None) -> TopicCodec:
    """A topic's codec whose parts type-check against one event type ``S``; the table then
    forgets ``S`` (the decoder only ever hands ``key`` and ``normalise`` what it decoded)."""
    return TopicCodec(schema, decode, cast(KeyOf, key), cast(Normaliser | None, normalise))


def _codec(schema: type[S], key: Callable[[S], str],
           normalise: Callable[[str, Sequence[S]], list[Vital]] | None = None, *,
           strict: bool = True) -> TopicCodec:
    return _checked(schema, _decoder(schema, strict), key, normalise)


_sw_plain = _decoder(smartwatch.SmartwatchEvent)
_sw_labelled = _decoder(smartwatch.SmartwatchEventLabelled)


def _decode_smartwatch(value: bytes) -> smartwatch.AnySmartwatchEvent:
    # Only the labelled variant has spaces in its keys: substring tests pick the decoder
    # without a generic (slow) dict parse; two keys, so a message missing one still gets
    # the error message of its own variant.
    if b'"Device ID"' in value or b'"Heart Rate"' in value:
        return _sw_labelled(value)
    return _sw_plain(value)


_notes_json = _decoder(notes.MedicalEntry)


def _decode_notes(value: bytes) -> notes.MedicalEntry:
    if value.lstrip()[:1] == b"{":
        return _notes_json(value)
    return notes.from_csv_row(value)


class _PatientKeyed(Protocol):
    @property
    def patient_id(self) -> str: ...


class _DeviceKeyed(Protocol):
    @property
    def device_id(self) -> str: ...


class _UserKeyed(Protocol):
    @property
    def user_id(self) -> int: ...


class _UseridKeyed(Protocol):
    @property
    def userid(self) -> int: ...


class _ActivityKeyed(Protocol):
    @property
    def activity_id(self) -> int: ...


def _patient(event: _PatientKeyed) -> str:
    return event.patient_id


def _device(event: _DeviceKeyed) -> str:
    return event.device_id


def _user(event: _UserKeyed) -> str:
    return str(event.user_id)


def _userid(event: _UseridKeyed) -> str:
    return str(event.userid)


def _activity(event: _ActivityKeyed) -> str:
    return str(event.activity_id)

CODECS: dict[str, TopicCodec] = {
    t.HEART_RATE: _codec(vitals.HeartRateEvent, _patient, vitals.to_vitals),
    t.BLOOD_OXYGEN: _codec(vitals.BloodOxygenEvent, _patient, vitals.to_vitals),
    t.BLOOD_PRESSURE: _codec(vitals.BloodPressureEvent, _patient, vitals.to_vitals),
    t.FALL_DETECTION: _codec(vitals.FallDetectionEvent, _patient, vitals.to_vitals),
    t.PATIENT_METADATA: _codec(vitals.PatientMetadata, _patient),
    t.DEVICE_DATA: _codec(device.DeviceReading, _device, device.to_vitals),
    t.MEDICAL_ENTRIES: _checked(notes.MedicalEntry, _decode_notes, _patient),
    t.HR_DATA: _codec(heartrate.HeartRateReading, _user, heartrate.to_vitals, strict=False),
    t.HR_USERS: _codec(heartrate.User, _userid, strict=False),
    t.HR_ACTIVITIES: _codec(heartrate.Activity, _activity, strict=False),
    t.SMARTWATCH: _checked(smartwatch.SmartwatchEvent, _decode_smartwatch, _device, smartwatch.to_vitals),
    t.USER_PROFILES: _codec(smartwatch.UserProfile, _device),
}
