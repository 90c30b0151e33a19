"""Seed 2 medical entries and seed 3 heart-rate stream with its reference data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from vitalstream import topics
from vitalstream.events import InvalidEvent, decode, key_of, normalise
from vitalstream.events.heartrate import Activity, HeartRateReading, User
from vitalstream.events.notes import MedicalEntry

NOTE = {"patient_id": "1", "medical_entry": "Patient shows signs of flu. Prescribed ibuprofen.",
        "timestamp": "2024-01-01 12:00"}


def test_medical_entry_json_and_seed_csv_row_agree() -> None:
    event = decode(topics.MEDICAL_ENTRIES, msgspec.json.encode(NOTE))
    assert isinstance(event, MedicalEntry)
    assert event.event_time == datetime(2024, 1, 1, 12, tzinfo=UTC)
    row = b'1,"Patient shows signs of flu. Prescribed ibuprofen.",2024-01-01 12:00'
    assert decode(topics.MEDICAL_ENTRIES, row) == event
    assert key_of(topics.MEDICAL_ENTRIES, event) == "1"
    with pytest.raises(ValueError):
        normalise(topics.MEDICAL_ENTRIES, event)


@pytest.mark.parametrize(("field", "value"), [
    ("timestamp", "01/01/2024"), ("timestamp", "1999-12-31 23:59"), ("medical_entry", "  "),
    ("patient_id", 1), ("medical_entry", None),
])
def test_medical_entry_rejections(field: str, value: Any) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.MEDICAL_ENTRIES, msgspec.json.encode({**NOTE, field: value}))
    assert info.value.field == field


def test_medical_entry_bad_csv_rejected() -> None:
    with pytest.raises(InvalidEvent):
        decode(topics.MEDICAL_ENTRIES, b"1,only two columns")


HR = {"user_id": 10001, "heart_rate": 128, "timestamp": 1711943972,
      "meta": {"activity_id": 20890, "location": {"latitude": 37.416834, "longitude": -121.975002}}}
HR_STRINGS = (b'{"user_id":"10001","heart_rate":"128","timestamp":"1711943972","meta":'
              b'{"activity_id":"20890","location":{"latitude":"37.416834",'
              b'"longitude":"-121.975002"}}}')


def test_heart_rate_stream_numbers_or_strings_decode_the_same() -> None:
    plain = decode(topics.HR_DATA, msgspec.json.encode(HR))
    strings = decode(topics.HR_DATA, HR_STRINGS)
    assert isinstance(plain, HeartRateReading)
    assert plain == strings
    assert key_of(topics.HR_DATA, plain) == "10001"


def test_heart_rate_stream_flattens_meta() -> None:
    [vital] = normalise(topics.HR_DATA, decode(topics.HR_DATA, HR_STRINGS))
    assert vital.patient_id == "10001"
    assert vital.heart_rate == 128
    assert vital.activity_id == 20890
    assert (vital.latitude, vital.longitude) == (37.416834, -121.975002)
    assert vital.event_time == datetime.fromtimestamp(1711943972, UTC)
    assert vital.source == "heart-rate"
    again = normalise(topics.HR_DATA, decode(topics.HR_DATA, msgspec.json.encode(HR)))[0]
    assert again.event_id == vital.event_id


def test_location_is_optional() -> None:
    body = {**HR, "meta": {"activity_id": 20890}}
    [vital] = normalise(topics.HR_DATA, decode(topics.HR_DATA, msgspec.json.encode(body)))
    assert vital.latitude is None


@pytest.mark.parametrize(("body", "field"), [
    ({**HR, "heart_rate": "fast"}, "heart_rate"),
    ({**HR, "heart_rate": "0"}, "heart_rate"),
    ({**HR, "heart_rate": "301"}, "heart_rate"),
    ({**HR, "user_id": "abc"}, "user_id"),
    ({**HR, "timestamp": "soon"}, "timestamp"),
    ({**HR, "timestamp": 12}, "timestamp"),
    ({**HR, "meta": {"activity_id": "x"}}, "meta.activity_id"),
    ({**HR, "meta": {"activity_id": 1, "location": {"latitude": "91", "longitude": 0}}},
     "meta.location.latitude"),
    ({**HR, "meta": {"activity_id": 1, "location": {"latitude": "nan", "longitude": 0}}},
     "meta.location.latitude"),
    ({k: v for k, v in HR.items() if k != "meta"}, "meta"),
    ({**HR, "meta": {"location": None}}, "meta.activity_id"),
])
def test_heart_rate_stream_rejections(body: dict[str, Any], field: str | None) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.HR_DATA, msgspec.json.encode(body))
    if field is not None:
        assert info.value.field == field
    else:
        assert "meta" in info.value.reason


USER_ROW = {"userid": "10001", "fname": "Irma", "lname": "Sollima", "dob": "19620411", "sex": "F",
            "height": "157", "weight": "59", "blood_type": "A+", "race": "A",
            "origin_country_code": "IT", "origin_country_name": "Italy",
            "address": "Incrocio Valentino, 78, 38070, Lomaso (Tn)", "address_country_code": "IT",
            "address_country_name": "Italy", "last_update": "2024-04-05T11:17:07Z"}


def test_user_row_from_csv_strings() -> None:
    user = decode(topics.HR_USERS, msgspec.json.encode(USER_ROW))
    assert isinstance(user, User)
    assert user.userid == 10001 and user.height == 157
    assert user.birth_date.isoformat() == "1962-04-11"
    assert key_of(topics.HR_USERS, user) == "10001"


@pytest.mark.parametrize(("field", "value"), [("dob", "1962-04-11"), ("dob", "19621341"),
                                               ("height", "-3"), ("last_update", "yesterday")])
def test_user_rejections(field: str, value: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.HR_USERS, msgspec.json.encode({**USER_ROW, field: value}))
    assert info.value.field == field


def test_activity_reference_record() -> None:
    value = b'{"activity_id":"20308","activity_name":"Stand","last_update":"2024-04-05T11:17:40Z"}'
    activity = decode(topics.HR_ACTIVITIES, value)
    assert isinstance(activity, Activity)
    assert key_of(topics.HR_ACTIVITIES, activity) == "20308"
    with pytest.raises(InvalidEvent):
        decode(topics.HR_ACTIVITIES, value.replace(b'"Stand"', b'""'))
