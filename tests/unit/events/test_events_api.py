"""The public API: unknown topics, garbage, never-crash property, schema export, batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitalstream import topics
from vitalstream.events import (
    SCHEMAS,
    VITAL_TOPICS,
    InvalidEvent,
    decode,
    decode_batch,
    export_json_schemas,
    key_of,
    normalise,
)
from vitalstream.events.registry import CODECS

ALL_TOPICS = sorted(CODECS)
GOOD_HR = (b'{"event_id":"e1","patient_id":"p1","timestamp":"2024-04-01T00:00:00Z",'
           b'"data_type":"heart_rate","heart_rate":70}')


def test_every_raw_and_reference_source_topic_has_a_codec() -> None:
    expected = {topics.HEART_RATE, topics.BLOOD_OXYGEN, topics.BLOOD_PRESSURE,
                topics.FALL_DETECTION, topics.PATIENT_METADATA, topics.DEVICE_DATA,
                topics.MEDICAL_ENTRIES, topics.HR_DATA, topics.HR_USERS, topics.HR_ACTIVITIES,
                topics.SMARTWATCH, topics.USER_PROFILES}
    assert set(CODECS) == expected
    assert set(VITAL_TOPICS) == {topics.HEART_RATE, topics.BLOOD_OXYGEN, topics.BLOOD_PRESSURE,
                                 topics.FALL_DETECTION, topics.DEVICE_DATA, topics.HR_DATA,
                                 topics.SMARTWATCH}


def test_unknown_topic() -> None:
    with pytest.raises(InvalidEvent, match="unknown topic"):
        decode("no-such-topic", GOOD_HR)
    with pytest.raises(ValueError):
        normalise("no-such-topic", decode(topics.HEART_RATE, GOOD_HR))
    with pytest.raises(ValueError):
        key_of("no-such-topic", decode(topics.HEART_RATE, GOOD_HR))


@pytest.mark.parametrize("value", [b"", b"not json", b"\xff\xfe\x00", b"[1,2,3]", b"null",
                                   b"{", b'{"heart_rate": 70}', b"42", b'"text"'])
@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_garbage_is_invalid_event(topic: str, value: bytes) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topic, value)
    assert info.value.reason.startswith(topic)
    assert isinstance(info.value, ValueError)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=6),
    max_leaves=10,
)
# Objects with the real field names make the property reach the validators, not only the parser.
FIELD_NAMES = st.sampled_from([
    "event_id", "patient_id", "timestamp", "data_type", "heart_rate", "spo2", "systolic",
    "diastolic", "fall_detected", "deviceId", "heartRate", "oxygenSaturation",
    "bodyTemperature", "latitude", "longitude", "user_id", "meta", "activity_id", "location",
    "device_id", "hr", "steps", "state", "Device ID", "Heart Rate", "Step Count",
    "Sleeping State", "date", "medical_entry", "age", "userid", "dob",
])
SHAPED = st.dictionaries(FIELD_NAMES, JSON, max_size=10)


@settings(max_examples=300, deadline=None)
@given(topic=st.sampled_from(ALL_TOPICS), value=st.binary(max_size=200))
def test_random_bytes_only_raise_invalid_event(topic: str, value: bytes) -> None:
    try:
        decode(topic, value)
    except InvalidEvent as exc:
        assert exc.reason


@settings(max_examples=250, deadline=None)
@given(topic=st.sampled_from(ALL_TOPICS), doc=JSON | SHAPED)
def test_random_json_only_raises_invalid_event(topic: str, doc: object) -> None:
    value = json.dumps(doc).encode()
    try:
        event = decode(topic, value)
    except InvalidEvent as exc:
        assert exc.reason
        return
    # Whatever passes must also normalise and key without error.
    assert isinstance(key_of(topic, event), str)
    if topic in VITAL_TOPICS:
        assert normalise(topic, event)


def test_decode_batch_keeps_positions() -> None:
    out = decode_batch(topics.HEART_RATE, [GOOD_HR, b"junk", GOOD_HR.replace(b"70", b"700")])
    assert out[0] == decode(topics.HEART_RATE, GOOD_HR)
    assert isinstance(out[1], InvalidEvent)
    assert isinstance(out[2], InvalidEvent) and out[2].field == "heart_rate"
    unknown = decode_batch("nope", [GOOD_HR])
    assert isinstance(unknown[0], InvalidEvent)


def test_export_json_schemas(tmp_path: Path) -> None:
    paths = export_json_schemas(tmp_path / "schemas")
    assert {p.name for p in paths} == {f"{name}.schema.json" for name in SCHEMAS}
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["$schema"].startswith("https://json-schema.org/")
        assert "$ref" in document or document.get("type") == "object"
        assert document.get("$defs"), path.name
    hr = json.loads((tmp_path / "schemas" / "HeartRateEvent.schema.json").read_text())
    props = hr["$defs"]["HeartRateEvent"]["properties"]
    assert props["heart_rate"]["maximum"] == 300
    assert props["data_type"]["enum"] == ["heart_rate"]
    device = json.loads((tmp_path / "schemas" / "HealthData.schema.json").read_text())
    required = device["$defs"]["DeviceReading"]["required"]
    assert "deviceId" in required and "latitude" not in required


def test_exported_schemas_are_valid_and_accept_simulated_messages(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from itertools import islice

    from vitalstream.simulate import PROFILES, make

    export_json_schemas(tmp_path)
    validators = {}
    for name in SCHEMAS:
        document = json.loads((tmp_path / f"{name}.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(document)
        validators[name] = jsonschema.Draft202012Validator(document)
    by_type = {schema: name for name, schema in SCHEMAS.items()}
    checked = 0
    for profile in PROFILES:
        sim = make(profile, patients=3, seed=5)
        for msg in [*sim.reference(), *islice(sim.events(), 40)]:
            name = by_type[type(decode(msg.topic, msg.value))]
            instance = json.loads(msg.value)
            if msg.topic == topics.HR_DATA and b'"user_id":"' in msg.value:
                continue  # string-typed numbers are accepted by the lax decoder, not the schema
            validators[name].validate(instance)
            checked += 1
    assert checked > 100
    bad = json.loads(GOOD_HR.replace(b"70", b"700"))
    assert not validators["HeartRateEvent"].is_valid(bad)


@pytest.mark.parametrize("profile", ["vitals", "device", "heart-rate", "smartwatch"])
def test_a_run_normalises_as_its_events_one_by_one(profile: str) -> None:
    """The processor normalises a run of one topic at once (ids computed together): the same
    Vitals, in order, as one event at a time."""
    import itertools

    from vitalstream.simulate import make

    by_topic: dict[str, list] = {}
    for m in itertools.islice(make(profile, patients=20, seed=7).events(), 400):
        if m.topic in VITAL_TOPICS:
            by_topic.setdefault(m.topic, []).append(decode(m.topic, m.value))
    assert by_topic
    for topic, events in by_topic.items():
        many = CODECS[topic].normalise
        assert many is not None
        assert many(topic, events) == [v for e in events for v in normalise(topic, e)]
