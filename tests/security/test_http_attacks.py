"""Issue 11 items 5 and 7, replayed against a real ingest server on loopback: rate limits and
device ownership on every event (valid or not) per API key, unambiguous keys, the admin scope
for reference topics, the OpenAPI document behind auth, body read deadline, nesting depth."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
from http_attack_helpers import ADMIN_KEY, DEVICE_KEY, GATEWAY_KEY, SW, bearer, dead_letters, records, server

from vitalstream import topics as T
from vitalstream.simulate import PROFILES, make

INVALID = {**SW, "hr": -5}  # routable (smartwatch) but out of range: a dead letter


def ndjson(events: list[dict]) -> bytes:  # type: ignore[type-arg]
    return b"\n".join(json.dumps(e).encode() for e in events)


# -- item 5: limits and ownership on every event, per principal --------------------------------
def test_invalid_events_are_rate_limited_with_the_default_settings(tmp_path) -> None:
    # Attack: 60,000 invalid events dead-lettered in ~1 s with no 429.
    body = ndjson([INVALID] * 1000)
    codes = []
    start = time.monotonic()
    with server(tmp_path) as c:
        for _ in range(60):
            codes.append(c.post("/stream", content=body).status_code)
    elapsed = time.monotonic() - start
    assert 429 in codes and set(codes) <= {422, 429}
    stored = len(dead_letters(tmp_path))
    assert stored == 1000 * codes.count(422)
    assert stored <= 5000 + 5000 * elapsed  # the default http.rate_per_gateway bucket


def test_device_key_may_not_name_another_device_even_in_invalid_events(tmp_path) -> None:
    # Attack: a per-device key posted 5,000 invalid events naming another device.
    other_invalid = {**INVALID, "device_id": "sw-0002"}
    unroutable = {"device_id": "sw-0002", "what": 1}
    with server(tmp_path, key=DEVICE_KEY, rate_per_device=1e6) as c:
        r = c.post("/stream", content=ndjson([other_invalid] * 5000))
        assert r.status_code == 403 and "event 0" in r.json()["detail"]
        r = c.post("/stream", content=ndjson([SW, unroutable]))
        assert r.status_code == 403 and "event 1" in r.json()["detail"]
        labelled = {"Device ID": "sw-0002", "Heart Rate": -1}
        assert c.post("/stream", json=labelled).status_code == 403
        # naming nobody: rejected as usual, attributed to the key's own device
        r = c.post("/stream", content=b'{"what": 1}\nnot json')
        assert r.status_code == 422 and len(r.json()["rejected"]) == 2
    assert records(tmp_path, T.SMARTWATCH) == []
    dls = dead_letters(tmp_path)
    assert len(dls) == 2
    assert {d.key for d in dls} == {b"sw-0001"}
    assert {dict(d.original_headers)["http.principal"] for d in dls} == {b"device:sw-0001"}


def test_limit_is_per_key_not_per_claimed_device(tmp_path) -> None:
    # Attack: the limit keyed on the body's device id let 5,000 fake ids all pass.
    fakes = [{**SW, "device_id": f"fake-{i}"} for i in range(5000)]
    codes = []
    start = time.monotonic()
    with server(tmp_path, rate_per_gateway=100) as c:
        for i in range(0, 5000, 50):
            codes.append(c.post("/stream", content=ndjson(fakes[i:i + 50])).status_code)
        elapsed = time.monotonic() - start
        # another key has its own bucket
        assert c.post("/stream", json=SW, headers=bearer(ADMIN_KEY)).status_code == 200
    assert codes[:2] == [200, 200] and codes.count(429) > 0
    stored = len(records(tmp_path, T.SMARTWATCH)) - 1
    assert stored == 50 * codes.count(200)
    assert stored <= 100 + 100 * elapsed + 50


def test_a_batch_takes_its_size_and_cannot_overdraw(tmp_path) -> None:
    # Attack: one 10k batch overdrew the bucket.
    with server(tmp_path / "default") as c:  # default rate_per_gateway 5000: 5000 at once
        r = c.post("/stream", content=ndjson([SW] * 10_000))
        assert r.status_code == 413 and "burst of 5000 events" in r.json()["detail"]
        assert c.post("/stream", content=ndjson([SW] * 5000)).status_code == 200
    with server(tmp_path / "dev", key=DEVICE_KEY) as c:  # default rate_per_device 200
        r = c.post("/stream", content=ndjson([SW] * 201))
        assert r.status_code == 413 and "http.rate_per_device" in r.json()["detail"]
    with server(tmp_path, rate_per_gateway=1000) as c:
        assert c.post("/stream", content=ndjson([SW] * 1000)).status_code == 200
        r = c.post("/stream", content=ndjson([SW] * 500))  # the bucket is empty: no debt
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert len(records(tmp_path, T.SMARTWATCH)) == 1000


def test_empty_requests_are_not_free(tmp_path) -> None:
    with server(tmp_path, rate_per_gateway=5) as c:
        codes = [c.post("/stream", content=b"").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]


# -- item 7: keys, scopes, docs ------------------------------------------------------------------
def test_gateway_key_with_colon_is_a_gateway(tmp_path) -> None:
    with server(tmp_path) as c:  # GATEWAY_KEY contains ':'
        r = c.post("/stream", json=[SW, {**SW, "device_id": "sw-0042"}])
        assert r.status_code == 200, r.text
    assert len(records(tmp_path, T.SMARTWATCH)) == 2


def _reference_records() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for profile in sorted(PROFILES):
        for msg in make(profile, patients=1).reference():
            out.setdefault(msg.topic, msg.value)
    return out


REFERENCE = _reference_records()


@pytest.mark.parametrize("topic", sorted(REFERENCE))
def test_reference_topics_need_the_admin_scope(tmp_path, topic) -> None:
    # Attack: any gateway key could rewrite any patient's metadata.
    assert set(REFERENCE) == set(T.REFERENCE_TOPICS)  # every reference topic is tried
    with server(tmp_path) as c:
        for key in (GATEWAY_KEY, DEVICE_KEY):
            r = c.post(f"/topics/{topic}", content=REFERENCE[topic], headers=bearer(key))
            assert r.status_code == 403 and "admin" in r.json()["detail"]
        assert records(tmp_path, topic) == [] and dead_letters(tmp_path) == []
        r = c.post(f"/topics/{topic}", content=REFERENCE[topic], headers=bearer(ADMIN_KEY))
        assert r.status_code == 200, r.text
    assert len(records(tmp_path, topic)) == 1


def test_every_reference_topic_is_refused_to_a_gateway(tmp_path) -> None:
    with server(tmp_path) as c:
        for topic in T.REFERENCE_TOPICS:  # refused before the body is even read
            assert c.post(f"/topics/{topic}", json={"x": 1}).status_code == 403


def test_openapi_needs_a_key_and_no_cdn_docs(tmp_path) -> None:
    with server(tmp_path) as c:
        assert c.get("/openapi.json", headers={"Authorization": ""}).status_code == 401
        assert c.get("/openapi.json", headers=bearer("wrong")).status_code == 403
        assert c.get("/openapi.json", headers=bearer(DEVICE_KEY)).json()["paths"]["/stream"]
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            r = c.get(path)
            assert r.status_code == 404 and "cdn" not in r.text.lower()


# -- item 7: body read deadline and nesting depth -------------------------------------------------
def _raw_request(base_url: str, head: bytes, trickle: bytes, every_s: float,
                 budget_s: float) -> tuple[bytes, float]:
    """Send ``head`` then ``trickle`` one byte per ``every_s``; the answer and its delay."""
    parts = urlsplit(base_url)
    start = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=budget_s) as sock:
        sock.sendall(head)
        answer = b""
        sock.settimeout(every_s)
        for byte in trickle:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # the server closed the connection
            try:
                answer += sock.recv(65536)
                if answer:
                    break
            except TimeoutError:
                pass
            if time.monotonic() - start > budget_s:
                break
        sock.settimeout(max(0.1, budget_s - (time.monotonic() - start)))
        while True:
            try:
                more = sock.recv(65536)
            except (TimeoutError, OSError):
                break
            if not more:
                break
            answer += more
    return answer, time.monotonic() - start


def test_trickled_body_gets_408_within_the_deadline(tmp_path) -> None:
    # Attack: a body trickled at 1 byte/s held a connection 30 s.
    body = json.dumps(SW).encode()
    with server(tmp_path, body_timeout_s=1.0) as c:
        head = (f"POST /stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {GATEWAY_KEY}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        answer, took = _raw_request(str(c.base_url), head, body, every_s=0.3, budget_s=10)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"http.body_timeout_s" in answer and took < 5
        stalled, took = _raw_request(str(c.base_url), head, b"", every_s=0.3, budget_s=10)
        assert stalled.startswith(b"HTTP/1.1 408") and took < 5
        assert c.post("/stream", json=SW).status_code == 200  # the server is fine
    assert len(records(tmp_path, T.SMARTWATCH)) == 1


@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_json_is_422_and_dead_lettered(tmp_path, shape) -> None:
    # Attack: a 100k-deep JSON array returned 500 (RecursionError), neither stored nor
    # dead-lettered.
    n = 100_000
    deep = b"[" * n + b"]" * n if shape == "array" else b'{"a":' * n + b"1" + b"}" * n
    with server(tmp_path) as c:
        r = c.post("/stream", content=deep, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text[:300]
        [item] = r.json()["rejected"]
        assert "nested deeper than 32 levels" in item["reason"]
        # one deep event among good ones: the good ones are stored
        nested = {**SW, "extra": json.loads("[" * 40 + "]" * 40)}
        r = c.post("/stream", json=[SW, nested, SW])
        assert r.status_code == 422 and r.json()["accepted"] == 2
        assert [x["index"] for x in r.json()["rejected"]] == [1]
        r = c.post(f"/topics/{T.SMARTWATCH}", content=b"[" * 5000 + b"]" * 5000)
        assert r.status_code == 422
    dls = dead_letters(tmp_path)
    assert len(dls) == 3 and all("nested deeper" in d.reason for d in dls)
    assert dls[0].value == deep and dls[0].stage == "ingest.http"
    assert len(records(tmp_path, T.SMARTWATCH)) == 2
