"""The HTTP edge end to end: a real uvicorn server on loopback, a real httpx client, the
embedded log in tmp_path."""

from __future__ import annotations

import itertools
import json

import pytest
from http_helpers import ADMIN_KEY, DEVICE_KEY, make_settings

from vitalstream import topics as T
from vitalstream.deadletter import DeadLetter
from vitalstream.log import open_log
from vitalstream.simulate import make
from vitalstream.sources.service import IngestService
from vitalstream.testing import Faults, FaultyLog, read_topic

SW = {"device_id": "sw-0001", "hr": 72.5, "steps": 10, "state": "awake",
      "timestamp": 1711958400.25}
SW_LABELLED = {"Device ID": "sw-0002", "Heart Rate": 61, "Step Count": 0, "Sleeping State": 1,
               "date": "2024-04-01 01:00:00.000"}


def events(profile: str, n: int) -> list[bytes]:
    return [o.value for o in itertools.islice(make(profile, patients=5).events(), n)]


def dead_letters(log) -> list[DeadLetter]:
    return [DeadLetter.from_record(r) for r in read_topic(log, T.DEAD_LETTERS)]


def test_single_event(client, log) -> None:
    r = client.post("/stream", json=SW)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "rejected": []}
    [rec] = read_topic(log, T.SMARTWATCH)
    assert rec.key == b"sw-0001" and json.loads(rec.value) == SW


def test_batch_of_every_shape_lands_in_each_raw_topic(client, log) -> None:
    batch = {
        T.HEART_RATE: None, T.DEVICE_DATA: events("device", 3),
        T.MEDICAL_ENTRIES: events("notes", 2), T.HR_DATA: events("heart-rate", 4),
        T.SMARTWATCH: events("smartwatch", 5),
    }
    vitals = events("vitals", 40)
    body = b"[" + b",".join(vitals + [v for k, vs in batch.items() if vs for v in vs]) + b"]"
    r = client.post("/stream", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 40 + 3 + 2 + 4 + 5
    seed0 = sum(len(read_topic(log, t)) for t in
                (T.HEART_RATE, T.BLOOD_OXYGEN, T.BLOOD_PRESSURE, T.FALL_DETECTION))
    assert seed0 == 40
    assert len(read_topic(log, T.DEVICE_DATA)) == 3
    assert len(read_topic(log, T.MEDICAL_ENTRIES)) == 2
    assert len(read_topic(log, T.HR_DATA)) == 4
    assert len(read_topic(log, T.SMARTWATCH)) == 5
    # keyed by key_of: the device message by deviceId
    assert all(r.key == json.loads(r.value)["deviceId"].encode()
               for r in read_topic(log, T.DEVICE_DATA))


def test_ndjson_body_both_smartwatch_variants(client, log) -> None:
    body = "\n".join([json.dumps(SW), "", json.dumps(SW_LABELLED)]) + "\n"
    r = client.post("/stream", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200 and r.json()["accepted"] == 2
    assert sorted(rec.key for rec in read_topic(log, T.SMARTWATCH)) == [b"sw-0001", b"sw-0002"]


def test_ndjson_detected_without_content_type(client, log) -> None:
    body = json.dumps(SW) + "\n" + json.dumps(SW_LABELLED)
    r = client.post("/stream", content=body)
    assert r.status_code == 200 and r.json()["accepted"] == 2


def test_explicit_reference_topic(client, log) -> None:
    profile = {"device_id": "sw-0001", "user_id": "u-1", "age": 70, "gender": "F"}
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    r = client.post(f"/topics/{T.USER_PROFILES}", json=[profile], headers=admin)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert client.post(f"/topics/{T.USER_PROFILES}", json=[profile]).status_code == 403
    [rec] = read_topic(log, T.USER_PROFILES)
    assert rec.key == b"sw-0001"
    assert client.post("/topics/alerts", json=profile).status_code == 404
    assert client.post("/topics/nope", json=profile).status_code == 404


def test_invalid_events_422_valid_ones_stored_rejects_dead_lettered(client, log) -> None:
    bad_hr = {**SW, "hr": -5}
    missing = {k: v for k, v in SW.items() if k != "steps"}
    r = client.post("/stream", json=[SW, bad_hr, missing, {"what": 1}, 7])
    assert r.status_code == 422
    body = r.json()
    assert body["accepted"] == 1
    rejected = {x["index"]: x for x in body["rejected"]}
    assert set(rejected) == {1, 2, 3, 4}
    assert rejected[1]["field"] == "hr" and rejected[1]["topic"] == T.SMARTWATCH
    assert "steps" in rejected[2]["reason"]
    assert "unknown event shape" in rejected[3]["reason"]
    assert "JSON object" in rejected[4]["reason"]
    assert len(read_topic(log, T.SMARTWATCH)) == 1
    dls = dead_letters(log)
    assert len(dls) == 4
    assert {d.stage for d in dls} == {"ingest.http"}
    by_value = {d.value: d for d in dls}
    hr_dl = by_value[json.dumps(bad_hr, separators=(",", ":")).encode()]
    assert hr_dl.field == "hr" and hr_dl.source_topic == T.SMARTWATCH
    assert hr_dl.error_class == "InvalidEvent" and hr_dl.reason
    assert "-5" not in hr_dl.reason  # reasons name fields, not values (no PHI)


def test_malformed_json_is_422_and_dead_lettered(client, log) -> None:
    r = client.post("/stream", content=b'{"device_id": "sw-0001", "hr": 7',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["accepted"] == 0
    [item] = r.json()["rejected"]
    assert item["index"] == 0 and "not valid JSON" in item["reason"]
    [dl] = dead_letters(log)
    assert dl.value == b'{"device_id": "sw-0001", "hr": 7'
    assert dl.error_class == "DecodeError" and dl.stage == "ingest.http"


def test_malformed_ndjson_line_is_one_rejected_event(client, log) -> None:
    body = json.dumps(SW) + "\n{oops\n" + json.dumps(SW_LABELLED)
    r = client.post("/stream", content=body)
    assert r.status_code == 422
    assert r.json()["accepted"] == 2 and [x["index"] for x in r.json()["rejected"]] == [1]


def test_empty_body_and_empty_array(client) -> None:
    assert client.post("/stream", content=b"").json() == {"accepted": 0, "rejected": []}
    assert client.post("/stream", json=[]).json() == {"accepted": 0, "rejected": []}


# -- authentication ---------------------------------------------------------------------------
def test_missing_credentials_401(client, log) -> None:
    r = client.post("/stream", json=SW, headers={"Authorization": ""})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/stream", json=SW, headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    assert read_topic(log, T.SMARTWATCH) == []


def test_unknown_key_403(client, log) -> None:
    r = client.post("/stream", json=SW, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403
    r = client.post("/stream", json=SW, headers={"Authorization": "", "X-API-Key": "wrong"})
    assert r.status_code == 403
    assert read_topic(log, T.SMARTWATCH) == []
    assert "wrong" not in r.text


def test_device_key_only_for_its_own_device(client, log) -> None:
    own = {"Authorization": "", "X-API-Key": DEVICE_KEY}
    assert client.post("/stream", json=SW, headers=own).status_code == 200
    other = {**SW, "device_id": "sw-0002"}
    r = client.post("/stream", json=[SW, other], headers=own)
    assert r.status_code == 403 and "event 1" in r.json()["detail"]
    bearer = {"Authorization": f"Bearer {DEVICE_KEY}"}
    assert client.post("/stream", json=other, headers=bearer).status_code == 403
    assert len(read_topic(log, T.SMARTWATCH)) == 1  # the refused batch stored nothing


def test_auth_can_be_switched_off(start) -> None:
    c = start(auth=False, insecure=True)
    assert c.post("/stream", json=SW, headers={"Authorization": ""}).status_code == 200


# -- limits -----------------------------------------------------------------------------------
def test_oversize_body_413_by_content_length(start, log) -> None:
    c = start(max_body_bytes=1000)
    r = c.post("/stream", json=[SW] * 50)
    assert r.status_code == 413
    assert read_topic(log, T.SMARTWATCH) == []


def test_oversize_streamed_body_413(start, log) -> None:
    c = start(max_body_bytes=1000)

    def chunks():  # no Content-Length: chunked transfer encoding
        yield b"["
        for i in range(50):
            yield (b"," if i else b"") + json.dumps(SW).encode()
        yield b"]"

    r = c.post("/stream", content=chunks())
    assert r.status_code == 413
    assert read_topic(log, T.SMARTWATCH) == []
    small = c.post("/stream", content=iter([json.dumps(SW).encode()]))
    assert small.status_code == 200


def test_rate_limit_per_key_429_with_retry_after(start, log) -> None:
    c = start(rate_per_device=2.0, rate_per_gateway=3.0)
    assert c.post("/stream", json=[SW, SW]).status_code == 200
    assert c.post("/stream", json=SW).status_code == 200
    other = {**SW, "device_id": "sw-0009"}
    r = c.post("/stream", json=other)  # another device, same key: the key's bucket is empty
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    own = {"Authorization": f"Bearer {DEVICE_KEY}"}
    assert c.post("/stream", json=[SW, SW], headers=own).status_code == 200  # its own bucket
    assert len(read_topic(log, T.SMARTWATCH)) == 5


# -- log availability -------------------------------------------------------------------------
def test_log_unavailable_at_start_503(start, tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    s = make_settings(tmp_path)
    import msgspec

    s = msgspec.structs.replace(s, log_url=f"sqlite:///{blocker}/log.db")
    c = start(settings=s)
    r = c.post("/stream", json=SW)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 503


def test_log_outage_while_running_503_then_recovers_without_duplicates(start, tmp_path, log) -> None:
    s = make_settings(tmp_path)
    faults = Faults(at=None)  # the log works, except during faults.outage()
    svc = IngestService(s, log_factory=lambda: FaultyLog(open_log(s.log_url), faults))
    c = start(service=svc, settings=s)
    assert c.post("/stream", json=SW).status_code == 200
    with faults.outage():
        r = c.post("/stream", json=SW_LABELLED)
        assert r.status_code == 503 and "retry-after" in r.headers
        assert c.get("/readyz").status_code == 503  # agrees with POST
    assert faults.failed == 1 and faults.refused == 1
    assert c.post("/stream", json=SW).status_code == 200
    assert c.get("/readyz").status_code == 200
    # the refused event was not written later behind the client's back
    assert sorted(r.key for r in read_topic(log, T.SMARTWATCH)) == [b"sw-0001", b"sw-0001"]


def test_health_and_ready(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_openapi_describes_the_ingest_routes(client) -> None:
    assert client.get("/openapi.json", headers={"Authorization": ""}).status_code == 401
    assert client.get("/docs").status_code == 404  # no CDN-loaded Swagger UI
    doc = client.get("/openapi.json").json()
    post = doc["paths"]["/stream"]["post"]
    assert {"200", "401", "403", "413", "422", "429", "503"} <= set(post["responses"])
    media = post["requestBody"]["content"]
    assert {"application/json", "application/x-ndjson"} <= set(media)
    schemas = doc["components"]["schemas"]
    assert {"SmartwatchEvent", "SmartwatchEventLabelled", "HealthData", "MedicalEntry"} <= set(schemas)
    assert "hr" in schemas["SmartwatchEvent"]["properties"]
    topic_param = doc["paths"]["/topics/{topic}"]["post"]["parameters"][0]
    assert T.PATIENT_METADATA in topic_param["schema"]["enum"]


@pytest.mark.parametrize("n", [1, 500])
def test_concurrent_requests_all_acknowledged_and_stored(client, log, n) -> None:
    import concurrent.futures

    bodies = events("smartwatch", 40 * n)
    chunks = [b"[" + b",".join(bodies[i:i + n]) + b"]" for i in range(0, len(bodies), n)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda b: client.post("/stream", content=b).status_code, chunks))
    assert codes == [200] * 40
    assert len(read_topic(log, T.SMARTWATCH)) == 40 * n
