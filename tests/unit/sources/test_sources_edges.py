"""Routing by shape, API keys, the per-device token bucket and body splitting."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.simulate import PROFILES, make
from vitalstream.sources.auth import AuthError, KeyRing
from vitalstream.sources.ingest import Accepted, Rejected, check, check_one, split_body
from vitalstream.sources.ratelimit import RateLimiter, retry_after_header
from vitalstream.sources.routing import Unroutable, route


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_simulated_event_routes_to_its_topic(profile) -> None:
    for msg in itertools.islice(make(profile, patients=4).events(), 200):
        assert route(msgspec.json.decode(msg.value)) == msg.topic


def test_route_shapes() -> None:
    assert route({"data_type": "blood_pressure"}) == T.BLOOD_PRESSURE
    assert route({"deviceId": "d"}) == T.DEVICE_DATA
    assert route({"patient_id": "1", "medical_entry": "x"}) == T.MEDICAL_ENTRIES
    assert route({"user_id": 1, "meta": {}}) == T.HR_DATA
    assert route({"device_id": "d", "hr": 1}) == T.SMARTWATCH
    assert route({"Device ID": "d"}) == T.SMARTWATCH
    for bad in ({"data_type": "glucose"}, {"data_type": 3}, {"patient_id": "1"}, [], 1, None, "x"):
        with pytest.raises(Unroutable):
            route(bad)


def test_split_body_forms() -> None:
    assert split_body(b'{"a":1}') == [b'{"a":1}']
    assert split_body(b' [{"a":1}, {"b":2}] ') == [b'{"a":1}', b'{"b":2}']
    assert split_body(b'{"a":1}\n\n{"b":2}\n') == [b'{"a":1}', b'{"b":2}']
    assert split_body(b'{"a":1}', "application/x-ndjson") == [b'{"a":1}']
    assert split_body(b"  ") == []
    assert split_body(b"[1,") == [b"[1,"]  # one malformed event


def test_check_accepts_and_rejects_in_body_order() -> None:
    good = b'{"device_id":"sw-1","hr":70,"steps":1,"state":"awake","timestamp":1711958400}'
    acc, rej = check([good, b"nope", b'{"device_id":"sw-1","hr":0,"steps":1,"state":"awake","timestamp":1711958400}'])
    assert [a.key for a in acc] == ["sw-1"]
    assert [(r.index, r.error_class) for r in rej] == [(1, "DecodeError"), (2, "InvalidEvent")]
    assert rej[1].field == "hr" and rej[1].topic == T.SMARTWATCH
    explicit = check_one(0, b'{"device_id":"sw-1","user_id":"u","age":50,"gender":"M"}', T.USER_PROFILES)
    assert isinstance(explicit, Accepted) and explicit.key == "sw-1"
    assert isinstance(check_one(0, good, T.USER_PROFILES), Rejected)


# -- auth ---------------------------------------------------------------------------------------
def test_keyring() -> None:
    ring = KeyRing(("gw", "dev-1:k1", " "))
    assert len(ring) == 2
    assert ring.authenticate("Bearer gw", None).device is None
    assert ring.authenticate(None, "k1").device == "dev-1"
    assert ring.authenticate("bearer k1", None).may_send("dev-1")
    assert not ring.authenticate(None, "k1").may_send("dev-2")
    for args, status in (((None, None), 401), (("Basic x", None), 401), (("Bearer ", None), 401),
                         (("Bearer nope", None), 403), ((None, "nope"), 403)):
        with pytest.raises(AuthError) as exc:
            ring.authenticate(*args)
        assert exc.value.status == status
    assert KeyRing((), enabled=False).authenticate(None, None).device is None
    with pytest.raises(AuthError):
        KeyRing(()).authenticate(None, "anything")  # auth on, no keys: nobody gets in
    with pytest.raises(ValueError):
        KeyRing(("dev:",))


# -- rate limit ----------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_per_device() -> None:
    clock = Clock()
    rl = RateLimiter(10, clock=clock)
    assert rl.admit({"a": 10}) == 0
    wait = rl.admit({"a": 1})
    assert wait == pytest.approx(0.1)
    assert rl.admit({"b": 5}) == 0  # other devices unaffected
    clock.now += 0.1
    assert rl.admit({"a": 1}) == 0


def test_big_batch_admitted_on_full_bucket_then_debt() -> None:
    clock = Clock()
    rl = RateLimiter(10, clock=clock)
    assert rl.admit({"a": 50}) == 0  # larger than the burst: allowed once, overdraws
    assert rl.admit({"a": 1}) == pytest.approx(4.1)
    clock.now += 4.1
    assert rl.admit({"a": 1}) == 0


def test_all_or_nothing_across_devices() -> None:
    clock = Clock()
    rl = RateLimiter(2, clock=clock)
    rl.admit({"a": 2})
    assert rl.admit({"a": 1, "b": 1}) > 0
    assert rl.admit({"b": 2}) == 0  # b was not charged by the refused request


def test_retry_after_rounds_up() -> None:
    assert retry_after_header(0.01) == "1" and retry_after_header(1.2) == "2"


def test_evicts_full_buckets() -> None:
    clock = Clock()
    rl = RateLimiter(1, clock=clock, max_devices=10)
    for i in range(10):
        rl.admit({f"d{i}": 1})
    clock.now += 5
    rl.admit({"new": 1})
    assert len(rl._buckets) == 1
