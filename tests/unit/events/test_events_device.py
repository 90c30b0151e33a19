"""Seed 1 combined device message, its °F conversion and the Avro form."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from vitalstream import topics
from vitalstream.events import InvalidEvent, decode, key_of, normalise
from vitalstream.events.avro import (
    HEALTH_DATA_SCHEMA,
    STRICT_HEALTH_DATA_SCHEMA,
    decode_avro,
    encode_avro,
)
from vitalstream.events.device import DeviceReading

# The seed's own test message (no location).
SEED_MESSAGE = (b'{"deviceId":"device123","timestamp":1711958400,"heartRate":75,"systolic":120,'
                b'"diastolic":80,"oxygenSaturation":98,"bodyTemperature":98.6}')
FULL = {"deviceId": "device123", "timestamp": 1711958400, "heartRate": 75, "systolic": 120,
        "diastolic": 80, "oxygenSaturation": 98, "bodyTemperature": 98.6,
        "latitude": 40.7128, "longitude": -74.006}


def msg(**fields: Any) -> bytes:
    return msgspec.json.encode({**FULL, **fields})


def test_seed_message_without_location_is_accepted() -> None:
    event = decode(topics.DEVICE_DATA, SEED_MESSAGE)
    assert isinstance(event, DeviceReading)
    assert event.latitude is None and event.longitude is None
    assert key_of(topics.DEVICE_DATA, event) == "device123"


def test_normalise_one_vital_with_celsius_and_location() -> None:
    event = decode(topics.DEVICE_DATA, msg())
    [vital] = normalise(topics.DEVICE_DATA, event)
    assert vital.temperature_c == 37.0
    assert (vital.heart_rate, vital.spo2, vital.systolic, vital.diastolic) == (75, 98, 120, 80)
    assert vital.device_id == vital.patient_id == "device123"
    assert (vital.latitude, vital.longitude) == (40.7128, -74.006)
    assert vital.event_time.timestamp() == 1711958400
    assert vital.source == "device"


def test_event_id_is_deterministic_and_content_sensitive() -> None:
    first = normalise(topics.DEVICE_DATA, decode(topics.DEVICE_DATA, msg()))[0].event_id
    again = normalise(topics.DEVICE_DATA, decode(topics.DEVICE_DATA, msg()))[0].event_id
    other = normalise(topics.DEVICE_DATA, decode(topics.DEVICE_DATA, msg(heartRate=76)))[0]
    later = normalise(topics.DEVICE_DATA, decode(topics.DEVICE_DATA, msg(timestamp=1711958401)))[0]
    assert first == again
    assert len({first, other.event_id, later.event_id}) == 3


@pytest.mark.parametrize(("fahrenheit", "celsius"), [(77.0, 25.0), (98.6, 37.0), (100.4, 38.0),
                                                     (104.0, 40.0), (113.0, 45.0)])
def test_fahrenheit_conversion_bounds(fahrenheit: float, celsius: float) -> None:
    event = decode(topics.DEVICE_DATA, msg(bodyTemperature=fahrenheit))
    [vital] = normalise(topics.DEVICE_DATA, event)
    assert vital.temperature_c == celsius


@pytest.mark.parametrize("fahrenheit", [76.9, 113.1, 37.0, -40.0])
def test_temperature_outside_25_to_45_celsius_rejected(fahrenheit: float) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.DEVICE_DATA, msg(bodyTemperature=fahrenheit))
    assert info.value.field == "bodyTemperature"


@pytest.mark.parametrize(("fields", "field"), [
    ({"diastolic": 120}, "diastolic"), ({"oxygenSaturation": 101}, "oxygenSaturation"),
    ({"heartRate": 0}, "heartRate"), ({"latitude": 91.0}, "latitude"),
    ({"longitude": -180.5}, "longitude"), ({"timestamp": 0}, "timestamp"),
    ({"timestamp": 1711958400000}, "timestamp"), ({"timestamp": "1711958400"}, "timestamp"),
    ({"deviceId": 123}, "deviceId"), ({"latitude": None, "longitude": 1.0}, "latitude"),
])
def test_device_rejections(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.DEVICE_DATA, msg(**fields))
    assert info.value.field == field


def test_lone_coordinate_rejected() -> None:
    body = dict(FULL)
    del body["longitude"]
    with pytest.raises(InvalidEvent, match="latitude"):
        decode(topics.DEVICE_DATA, msgspec.json.encode(body))


def test_avro_round_trip_matches_json_form() -> None:
    pytest.importorskip("fastavro")
    event = decode(topics.DEVICE_DATA, msg())
    for strict_schema in (False, True):
        data = encode_avro(event, strict_schema=strict_schema)  # type: ignore[arg-type]
        back = decode_avro(data, strict_schema=strict_schema)
        assert back == event
        assert msgspec.json.encode(back) == msgspec.json.encode(event)
    assert len(encode_avro(event)) < len(msg())  # type: ignore[arg-type]


def test_avro_without_location_needs_the_evolved_schema() -> None:
    pytest.importorskip("fastavro")
    event = decode(topics.DEVICE_DATA, SEED_MESSAGE)
    assert decode_avro(encode_avro(event)) == event  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent):
        encode_avro(event, strict_schema=True)  # type: ignore[arg-type]


def test_avro_decode_validates_physiology_and_garbage() -> None:
    fastavro = pytest.importorskip("fastavro")
    import io

    bad = dict(FULL, diastolic=130)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(STRICT_HEALTH_DATA_SCHEMA), bad)
    with pytest.raises(InvalidEvent, match="diastolic"):
        decode_avro(out.getvalue(), strict_schema=True)
    with pytest.raises(InvalidEvent):
        decode_avro(b"\x01")


def test_avro_schema_is_the_seed_record() -> None:
    assert STRICT_HEALTH_DATA_SCHEMA["namespace"] == "com.example"
    assert STRICT_HEALTH_DATA_SCHEMA["name"] == "HealthData"
    names = [f["name"] for f in HEALTH_DATA_SCHEMA["fields"]]
    assert names == [f["name"] for f in STRICT_HEALTH_DATA_SCHEMA["fields"]]
    assert set(DeviceReading.__struct_encode_fields__) == set(names)


def test_event_id_is_the_hash_of_the_reading_as_sent_cached_or_not() -> None:
    # the processor caches (°C, text) per °F float; the id still hashes the reading's own text
    from vitalstream.events.device import to_vitals
    from vitalstream.events.ids import uuid5_str

    event = decode(topics.DEVICE_DATA, SEED_MESSAGE)
    name = f"{topics.DEVICE_DATA}\x1fdevice123\x1f1711958400000\x1f75\x1f120\x1f80\x1f98\x1f98.6"
    first, again = (to_vitals(topics.DEVICE_DATA, [event])[0] for _ in range(2))
    assert first.event_id == again.event_id == uuid5_str(name)
    assert first.temperature_c == again.temperature_c == 37.0
    # an int °F (a caller building the struct by hand) reads "99" in the id, never a cached "99.0"
    to_vitals(topics.DEVICE_DATA, [msgspec.structs.replace(event, body_temperature=99.0)])
    as_int = to_vitals(topics.DEVICE_DATA, [msgspec.structs.replace(event, body_temperature=99)])[0]
    assert as_int.event_id == uuid5_str(name.replace("98.6", "99"))
