"""Seed 4: both smartwatch variants, sleep-state encodings, user profiles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from vitalstream import topics
from vitalstream.events import InvalidEvent, decode, key_of, normalise
from vitalstream.events.smartwatch import (
    SmartwatchEvent,
    SmartwatchEventLabelled,
    UserProfile,
    parse_sleeping,
)

PLAIN = {"device_id": "sw-0001", "hr": 55, "steps": 0, "state": "sleeping",
         "timestamp": 1711936800.123}
LABELLED = {"Device ID": "sw-0001", "Heart Rate": 55, "Step Count": 0, "Sleeping State": 1,
            "date": "2024-04-01 02:00:00.123"}


def enc(body: dict[str, Any]) -> bytes:
    return msgspec.json.encode(body)


def test_both_variants_decode_to_their_types() -> None:
    assert isinstance(decode(topics.SMARTWATCH, enc(PLAIN)), SmartwatchEvent)
    labelled = decode(topics.SMARTWATCH, enc(LABELLED))
    assert isinstance(labelled, SmartwatchEventLabelled)
    assert key_of(topics.SMARTWATCH, labelled) == "sw-0001"


def test_both_variants_equal_after_normalise() -> None:
    [a] = normalise(topics.SMARTWATCH, decode(topics.SMARTWATCH, enc(PLAIN)))
    [b] = normalise(topics.SMARTWATCH, decode(topics.SMARTWATCH, enc(LABELLED)))
    assert a == b
    assert a.event_time == datetime(2024, 4, 1, 2, 0, 0, 123000, tzinfo=UTC)
    assert (a.patient_id, a.device_id, a.heart_rate, a.steps, a.sleeping) == (
        "sw-0001", "sw-0001", 55, 0, True)
    assert a.source == "smartwatch"


def test_labelled_date_with_offset_is_converted() -> None:
    event = decode(topics.SMARTWATCH, enc({**LABELLED, "date": "2024-04-01T04:00:00.123+02:00"}))
    [vital] = normalise(topics.SMARTWATCH, event)
    assert vital.event_time == datetime(2024, 4, 1, 2, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(("state", "sleeping"), [
    ("sleeping", True), ("Asleep", True), ("awake", False), ("ACTIVE", False), (1, True),
    (0, False), (True, True), (False, False), ("1", True), ("0", False),
])
def test_sleep_state_encodings(state: Any, sleeping: bool) -> None:
    for body, field in ((PLAIN, "state"), (LABELLED, "Sleeping State")):
        event = decode(topics.SMARTWATCH, enc({**body, field: state}))
        assert normalise(topics.SMARTWATCH, event)[0].sleeping is sleeping


@pytest.mark.parametrize("state", ["dozing", 2, -1, "", None, 0.5])
def test_unknown_sleep_state_rejected(state: Any) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.SMARTWATCH, enc({**PLAIN, "state": state}))
    assert info.value.field == "state"
    with pytest.raises(InvalidEvent) as info:
        decode(topics.SMARTWATCH, enc({**LABELLED, "Sleeping State": state}))
    assert info.value.field == "Sleeping State"
    with pytest.raises(ValueError):
        parse_sleeping(state)


@pytest.mark.parametrize(("body", "field"), [
    ({**PLAIN, "steps": -1}, "steps"), ({**PLAIN, "hr": 0}, "hr"), ({**PLAIN, "hr": 301}, "hr"),
    ({**PLAIN, "timestamp": "1711936800"}, "timestamp"), ({**PLAIN, "timestamp": 5.0}, "timestamp"),
    ({**LABELLED, "Step Count": -3}, "Step Count"),
    ({**LABELLED, "date": "01.04.2024 02:00"}, "date"),
    ({**LABELLED, "date": "1999-12-31 23:59:59.000"}, "date"),
    ({**LABELLED, "Heart Rate": "55"}, "Heart Rate"),
])
def test_smartwatch_rejections(body: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(topics.SMARTWATCH, enc(body))
    assert info.value.field == field


def test_missing_fields_rejected_in_either_variant() -> None:
    for body in (PLAIN, LABELLED):
        for name in body:
            partial = {k: v for k, v in body.items() if k != name}
            with pytest.raises(InvalidEvent, match=name):
                decode(topics.SMARTWATCH, enc(partial))


def test_fractional_heart_rate_is_rounded() -> None:
    [vital] = normalise(topics.SMARTWATCH, decode(topics.SMARTWATCH, enc({**PLAIN, "hr": 71.6})))
    assert vital.heart_rate == 72


def test_user_profile() -> None:
    profile = decode(topics.USER_PROFILES,
                     b'{"device_id":"sw-0001","user_id":"user-0001","age":34,"gender":"female"}')
    assert isinstance(profile, UserProfile)
    assert key_of(topics.USER_PROFILES, profile) == "sw-0001"
    with pytest.raises(InvalidEvent):
        decode(topics.USER_PROFILES,
               b'{"device_id":"sw-0001","user_id":"u","age":200,"gender":"f"}')


def test_events_sharing_a_tick_keep_their_own_ids_and_times() -> None:
    # to_vitals caches (event time, epoch ms) per source time: same tick, other device
    def vital(device: str, ts: float) -> Any:
        body = {"device_id": device, "hr": 70, "steps": 3, "state": "awake", "timestamp": ts}
        return normalise(topics.SMARTWATCH, decode(topics.SMARTWATCH, msgspec.json.encode(body)))[0]

    a, b, c = vital("w1", 1711958400.25), vital("w2", 1711958400.25), vital("w1", 1711958401.5)
    assert a.event_time == b.event_time == datetime(2024, 4, 1, 8, 0, 0, 250000, tzinfo=UTC)
    assert c.event_time == datetime(2024, 4, 1, 8, 0, 1, 500000, tzinfo=UTC)
    assert len({a.event_id, b.event_id, c.event_id}) == 3
