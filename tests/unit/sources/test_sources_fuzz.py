"""Random bytes and random JSON at every edge's decoding path: nothing crashes, and every
input is either stored or accounted for by exactly one dead letter."""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitalstream import topics as T
from vitalstream.config import load
from vitalstream.deadletter import DeadLetter
from vitalstream.log import Record, open_log
from vitalstream.sources.auth import Principal
from vitalstream.sources.files import ingest_file
from vitalstream.sources.ingest import OutRecord, split_body
from vitalstream.sources.mqtt import MqttBridge
from vitalstream.sources.service import IngestService
from vitalstream.testing import ListProducer

SETTINGS = load(environ={}, overrides={"http": {"rate_per_device": 1e12, "rate_per_gateway": 1e12}})
GATEWAY = Principal("gateway", "fuzz")
FIELDS = ["data_type", "heart_rate", "patient_id", "event_id", "timestamp", "deviceId", "heartRate",
          "systolic", "diastolic", "oxygenSaturation", "bodyTemperature", "latitude", "longitude",
          "medical_entry", "user_id", "meta", "activity_id", "device_id", "hr", "steps", "state",
          "Device ID", "Heart Rate", "Step Count", "Sleeping State", "date", "spo2"]
scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
           | st.text(max_size=20) | st.sampled_from(["heart_rate", "blood_pressure", "sleeping",
                                                     "2024-04-01T00:00:00Z", "2024-04-01 00:00:00.000"]))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), kids,
                                             max_size=6), max_leaves=20)
event_like = st.dictionaries(st.sampled_from(FIELDS), scalars | json_values, max_size=10)
bodies = (st.binary(max_size=300)
          | json_values.map(msgspec.json.encode)
          | st.lists(event_like, max_size=8).map(msgspec.json.encode)
          | st.lists(event_like, max_size=8).map(
              lambda evs: b"\n".join(msgspec.json.encode(e) for e in evs)))


def _dead_letters(records: list[OutRecord]) -> list[DeadLetter]:
    return [DeadLetter.from_record(Record(tp, 0, 0, k, v, 0, h))
            for tp, v, k, h in records if tp == T.DEAD_LETTERS]


@settings(max_examples=400, deadline=None)
@given(body=bodies, ctype=st.sampled_from([None, "application/json", "application/x-ndjson"]))
def test_http_decoding_path(body: bytes, ctype: str | None) -> None:
    svc = IngestService(SETTINGS, log_factory=lambda: None)  # type: ignore[arg-type, return-value]
    checked = svc.check_body(body, ctype, GATEWAY)
    n = len(split_body(body, ctype))
    assert len(checked.accepted) + len(checked.rejected) == n
    assert sorted(r.index for r in checked.rejected) == sorted({r.index for r in checked.rejected})
    dls = _dead_letters(checked.records)
    assert len(dls) == len(checked.rejected)
    assert all(d.stage == "ingest.http" and d.reason and d.error_class for d in dls)
    assert len(checked.records) == n
    result = checked.result()
    assert result["accepted"] == len(checked.accepted)
    msgspec.json.encode(result)


class _Client:
    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, mid: int, qos: int) -> None:
        self.acked.append(mid)


class _Log:
    def __init__(self) -> None:
        self.producer_ = ListProducer()

    def producer(self) -> ListProducer:
        return self.producer_


@settings(max_examples=300, deadline=None)
@given(payloads=st.lists(st.binary(max_size=200) | event_like.map(msgspec.json.encode), max_size=10))
def test_mqtt_decoding_path(payloads: list[bytes]) -> None:
    log = _Log()
    bridge = MqttBridge(log, SETTINGS, topics=["t"])  # type: ignore[arg-type]
    bridge.client = _Client()
    bridge._write([(i + 1, 1, p, "health/device_data") for i, p in enumerate(payloads)])
    records = log.producer_.records
    stored = [r for r in records if r[0] == T.DEVICE_DATA]
    dls = _dead_letters(records)
    assert len(stored) + len(dls) == len(payloads)
    assert all(d.stage == "ingest.mqtt" for d in dls)
    assert sorted(bridge.client.acked) == list(range(1, len(payloads) + 1))  # all acked, after flush


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\r" not in b)
                      | event_like.map(msgspec.json.encode), max_size=12),
       fmt=st.sampled_from(["jsonl", "csv"]))
def test_file_decoding_path(lines: list[bytes], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        s = load(environ={}, overrides={"home": d, "partitions": 1})
        path = Path(d) / f"in.{fmt}"
        header = b"patient_id,medical_entry,timestamp\n" if fmt == "csv" else b""
        path.write_bytes(header + b"\n".join(lines) + b"\n")
        topic = T.MEDICAL_ENTRIES if fmt == "csv" else None
        with open_log(s.log_url) as log:
            r = ingest_file(log, path, fmt, topic, s)
            stored = sum(log.describe_topic(t).records for t in
                         ([topic] if topic else [T.SMARTWATCH, T.DEVICE_DATA, T.HR_DATA,
                                                  T.MEDICAL_ENTRIES, T.HEART_RATE, T.BLOOD_OXYGEN,
                                                  T.BLOOD_PRESSURE, T.FALL_DETECTION]))
            dls = log.describe_topic(T.DEAD_LETTERS).records
        assert stored == r.accepted and dls == r.rejected
        assert r.accepted + r.rejected == r.records_done
