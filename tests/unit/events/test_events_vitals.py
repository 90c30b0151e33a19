"""Smartwatch vitals and patient metadata: accept/reject boundaries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from vitalstream import topics
from vitalstream.events import InvalidEvent, decode, key_of, normalise
from vitalstream.events.ids import scoped_event_id
from vitalstream.events.vitals import BloodPressureEvent, HeartRateEvent, PatientMetadata

BASE = {"event_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "patient_id": "patient-0001",
        "timestamp": "2024-04-01T08:00:00Z"}


def msg(**fields: Any) -> bytes:
    return msgspec.json.encode({**BASE, **fields})


def hr(value: Any) -> bytes:
    return msg(data_type="heart_rate", heart_rate=value)


def bp(sys: Any, dia: Any) -> bytes:
    return msg(data_type="blood_pressure", systolic=sys, diastolic=dia)


def spo2(value: Any) -> bytes:
    return msg(data_type="blood_oxygen", spo2=value)


def reject(topic: str, value: bytes, field: str | None = None) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as info:
        decode(topic, value)
    if field is not None:
        assert info.value.field == field, info.value.reason
    return info.value


def test_heart_rate_accepts_and_normalises() -> None:
    event = decode(topics.HEART_RATE, hr(72))
    assert isinstance(event, HeartRateEvent)
    assert event.heart_rate == 72
    [vital] = normalise(topics.HEART_RATE, event)
    # the identity is scoped to the patient; the client's id is kept alongside
    assert vital.event_id == scoped_event_id("patient-0001", BASE["event_id"])
    assert vital.source_event_id == BASE["event_id"]
    assert vital.patient_id == "patient-0001"
    assert vital.source == "vitals"
    assert vital.heart_rate == 72
    assert vital.event_time == datetime(2024, 4, 1, 8, tzinfo=UTC)
    assert vital.event_time.tzinfo is UTC
    assert key_of(topics.HEART_RATE, event) == "patient-0001"


@pytest.mark.parametrize("value", [1, 30, 250, 300])
def test_heart_rate_possible_values_pass(value: int) -> None:
    assert decode(topics.HEART_RATE, hr(value)).heart_rate == value  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [0, -5, 301, 1000])
def test_heart_rate_impossible_values_rejected(value: int) -> None:
    reject(topics.HEART_RATE, hr(value), "heart_rate")


def test_reason_does_not_echo_the_value() -> None:
    exc = reject(topics.HEART_RATE, hr(4321), "heart_rate")
    assert "4321" not in exc.reason
    assert "300" in exc.reason  # but it does say the allowed range
    exc = reject(topics.BLOOD_PRESSURE, bp(187, 193), "diastolic")
    assert "187" not in exc.reason and "193" not in exc.reason


@pytest.mark.parametrize("value", ["72", 72.5, None, True])
def test_heart_rate_wrong_types_rejected(value: Any) -> None:
    reject(topics.HEART_RATE, hr(value), "heart_rate")


@pytest.mark.parametrize("value", [40, 88, 99, 100])
def test_spo2_accepts_up_to_100(value: int) -> None:
    assert decode(topics.BLOOD_OXYGEN, spo2(value)).spo2 == value  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [0, -1, 101])
def test_spo2_rejects_impossible(value: int) -> None:
    reject(topics.BLOOD_OXYGEN, spo2(value), "spo2")


def test_blood_pressure_boundaries() -> None:
    event = decode(topics.BLOOD_PRESSURE, bp(120, 80))
    assert isinstance(event, BloodPressureEvent)
    narrow = decode(topics.BLOOD_PRESSURE, bp(121, 120))
    assert narrow.diastolic == 120  # type: ignore[attr-defined]
    assert decode(topics.BLOOD_PRESSURE, bp(220, 130)).systolic == 220  # type: ignore[attr-defined]
    [vital] = normalise(topics.BLOOD_PRESSURE, event)
    assert (vital.systolic, vital.diastolic) == (120, 80)


@pytest.mark.parametrize(("sys", "dia", "field"), [
    (120, 120, "diastolic"), (80, 120, "diastolic"), (39, 20, "systolic"),
    (301, 80, "systolic"), (120, 19, "diastolic"), (250, 201, "diastolic"),
])
def test_blood_pressure_rejections(sys: int, dia: int, field: str) -> None:
    exc = reject(topics.BLOOD_PRESSURE, bp(sys, dia), field)
    assert "blood-pressure-data" in exc.reason


def test_fall_detection_requires_bool() -> None:
    event = decode(topics.FALL_DETECTION, msg(data_type="fall_detection", fall_detected=True))
    [vital] = normalise(topics.FALL_DETECTION, event)
    assert vital.fall_detected is True
    reject(topics.FALL_DETECTION, msg(data_type="fall_detection", fall_detected=1),
           "fall_detected")


def test_data_type_must_match_topic() -> None:
    reject(topics.HEART_RATE, spo2(97), "data_type")
    reject(topics.HEART_RATE, msg(data_type="heartrate", heart_rate=70), "data_type")


@pytest.mark.parametrize("missing", ["event_id", "patient_id", "timestamp", "data_type",
                                     "heart_rate"])
def test_missing_field_rejected(missing: str) -> None:
    body = {**BASE, "data_type": "heart_rate", "heart_rate": 70}
    del body[missing]
    exc = reject(topics.HEART_RATE, msgspec.json.encode(body), missing)
    assert missing in exc.reason


def test_unknown_extra_fields_are_ignored() -> None:
    event = decode(topics.HEART_RATE, msg(data_type="heart_rate", heart_rate=70, firmware="2.1"))
    assert event.heart_rate == 70  # type: ignore[attr-defined]


@pytest.mark.parametrize("stamp", ["2024-04-01T08:00:00", "yesterday", "2024-13-01T00:00:00Z",
                                   "1970-01-01T00:00:00Z", "2150-01-01T00:00:00Z", "", 1711958400])
def test_bad_timestamps_rejected(stamp: Any) -> None:
    reject(topics.HEART_RATE, msg(timestamp=stamp, data_type="heart_rate", heart_rate=70),
           "timestamp")


def test_offset_timestamps_convert_to_utc() -> None:
    event = decode(topics.HEART_RATE, msg(timestamp="2024-04-01T10:00:00.250+02:00",
                                          data_type="heart_rate", heart_rate=70))
    [vital] = normalise(topics.HEART_RATE, event)
    assert vital.event_time == datetime(2024, 4, 1, 8, 0, 0, 250000, tzinfo=UTC)
    assert vital.event_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


METADATA = {"patient_id": "patient-0001", "age": 72, "gender": "female",
            "medical_history": "COPD; hypertension", "emergency_contact": "A B +1-555-0100",
            "blood_type": "O+", "allergies": "penicillin", "last_checkup_date": "2024-02-13",
            "device_id": "watch-0001"}


def test_patient_metadata_accepts_and_keys() -> None:
    event = decode(topics.PATIENT_METADATA, msgspec.json.encode(METADATA))
    assert isinstance(event, PatientMetadata)
    assert event.age == 72
    assert key_of(topics.PATIENT_METADATA, event) == "patient-0001"
    with pytest.raises(ValueError):
        normalise(topics.PATIENT_METADATA, event)


@pytest.mark.parametrize(("field", "value"), [("age", -1), ("age", 131), ("age", "72"),
                                               ("device_id", None), ("patient_id", "")])
def test_patient_metadata_rejections(field: str, value: Any) -> None:
    reject(topics.PATIENT_METADATA, msgspec.json.encode({**METADATA, field: value}), field)
