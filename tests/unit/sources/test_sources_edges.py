"""Routing by shape, API keys, the per-device token bucket and body splitting."""

from __future__ import annotations

import itertools

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.config import HttpSettings, load
from vitalstream.errors import ConfigError
from vitalstream.simulate import PROFILES, make
from vitalstream.sources.auth import AuthError, KeyRing, default_client_key, key_warnings
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
def _http(**kw: object) -> HttpSettings:
    return load(environ={}, overrides={"http": kw}).http


def test_keyring_roles_and_id_key_pairs() -> None:
    ring = KeyRing.from_settings(_http(gateway_keys=["site-a=gw:with:colons=="],
                                       device_keys=["dev-1=k1", " "], admin_keys=["ops=adm"]))
    assert len(ring) == 3
    gw = ring.authenticate("Bearer gw:with:colons==", None)  # ':' and '=' inside a key are legal
    assert (gw.role, gw.name, gw.device, gw.admin) == ("gateway", "gateway:site-a", None, False)
    assert ring.authenticate(None, "k1").device == "dev-1"
    assert ring.authenticate("bearer k1", None).may_send("dev-1")
    assert not ring.authenticate(None, "k1").may_send("dev-2")
    assert ring.authenticate(None, "adm").admin
    for args, status in (((None, None), 401), (("Basic x", None), 401), (("Bearer ", None), 401),
                         (("Bearer nope", None), 403), ((None, "nope"), 403)):
        with pytest.raises(AuthError) as exc:
            ring.authenticate(*args)
        assert exc.value.status == status
    assert KeyRing([], enabled=False).authenticate(None, None).device is None
    with pytest.raises(AuthError):
        KeyRing([]).authenticate(None, "anything")  # auth on, no keys: nobody gets in
    for bad in ({"device_keys": ["dev-1"]}, {"gateway_keys": ["=k"]}, {"admin_keys": ["a="]},
                {"gateway_keys": ["a=same"], "admin_keys": ["b=same"]}):
        with pytest.raises(ConfigError):
            KeyRing.from_settings(_http(**bad))


def test_legacy_api_keys_still_parse_as_before() -> None:
    http = _http(api_keys=["gw", "dev-1:k1", " "])
    ring = KeyRing.from_settings(http)
    assert ring.authenticate(None, "gw").role == "gateway"
    assert not ring.authenticate(None, "gw").admin  # no admin scope for legacy keys
    assert ring.authenticate(None, "k1").device == "dev-1"
    assert any("deprecated" in w for w in key_warnings(http))
    with pytest.raises(ConfigError):
        KeyRing.from_settings(_http(api_keys=["dev:"]))


def test_keys_file(tmp_path) -> None:
    path = tmp_path / "keys"
    path.write_text("# role id=key\n\ndevice sw-0001=a:b=c\ngateway ward 7=gk\nadmin ops=ak\n")
    path.chmod(0o600)
    http = _http(keys_file=str(path))
    ring = KeyRing.from_settings(http)
    assert ring.authenticate(None, "a:b=c").device == "sw-0001"
    assert ring.authenticate(None, "gk").name == "gateway:ward 7"
    assert default_client_key(http) == "ak"  # the most capable key
    assert key_warnings(http) == []
    path.chmod(0o644)
    assert "chmod 600" in key_warnings(http)[0]
    path.write_text("owner sw=1\n")
    with pytest.raises(ConfigError, match="line 1"):
        KeyRing.from_settings(http)
    with pytest.raises(ConfigError, match="cannot read"):
        KeyRing.from_settings(_http(keys_file=str(tmp_path / "missing")))


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


def test_batch_takes_its_size_and_never_overdraws() -> None:
    clock = Clock()
    rl = RateLimiter(10, clock=clock)
    assert not rl.fits(11) and rl.fits(10)
    assert rl.admit({"a": 50}) == float("inf")  # larger than the bucket: never admitted
    assert rl.admit({"a": 8}) == 0
    assert rl.admit({"a": 5}) == pytest.approx(0.3)  # 2 left, 5 needed
    clock.now += 0.3
    assert rl.admit({"a": 5}) == 0


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
    rl = RateLimiter(1, clock=clock, max_buckets=10)
    for i in range(10):
        rl.admit({f"d{i}": 1})
    clock.now += 5
    rl.admit({"new": 1})
    assert len(rl._buckets) == 1
