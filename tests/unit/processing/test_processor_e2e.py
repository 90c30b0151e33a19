"""End to end on the embedded log: simulated and hand-written events in; processed records,
dead letters and alerts out, checked field by field."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.clinical import ManualClock
from vitalstream.deadletter import DeadLetter
from vitalstream.events.canonical import Alert, ProcessedVital
from vitalstream.log import open_log
from vitalstream.processing import VitalsProcessor
from vitalstream.runtime import run_worker
from vitalstream.simulate import make

T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def log(tmp_path):
    lg = open_log(f"sqlite:///{tmp_path}/log.db")
    T.ensure_all(lg)
    yield lg
    lg.close()


def _send(log, topic, rows, key_field="patient_id"):
    with log.producer() as p:
        for row in rows:
            if isinstance(row, bytes):
                p.send(topic, row, key=b"garbage")
            else:
                p.send(topic, json.dumps(row).encode(), key=str(row[key_field]).encode())
        p.flush()


def _read_all(log, topic):
    with log.consumer(f"check-{topic}", [topic]) as c:
        out = []
        while batch := c.poll(timeout=0.3):
            out += batch
        return out


def _run(log, clock=None):
    stop = threading.Event()
    proc = VitalsProcessor(log, clock=clock or ManualClock(T0 + timedelta(hours=1)), stop=stop)
    run_worker(log, proc, stop, until_idle=True, max_wait_s=0.05)
    return proc


def _hr(i, pid, hr, t):
    return {"event_id": f"00000000-0000-4000-8000-{i:012d}", "patient_id": pid,
            "timestamp": t.isoformat().replace("+00:00", "Z"), "data_type": "heart_rate", "heart_rate": hr}


META = {"patient_id": "p1", "age": 70, "gender": "F", "medical_history": "COPD",
        "emergency_contact": "+44 20 0000 0000", "blood_type": "A+", "allergies": "none",
        "last_checkup_date": "2024-01-01", "device_id": "d1"}


def test_hand_written_events_field_by_field(log) -> None:
    _send(log, T.PATIENT_METADATA, [META])
    # p1: tachycardic for 2 minutes (sustained -> one raise), p2 has no metadata yet.
    rows = [_hr(i, "p1", 130, T0 + timedelta(seconds=10 * i)) for i in range(12)]
    rows.append(_hr(99, "p2", 72, T0))
    rows.append(rows[0])  # a duplicate event id
    _send(log, T.HEART_RATE, rows)
    _send(log, T.HEART_RATE, [b"not json", b'{"patient_id": "p3"}'])
    _send(log, T.BLOOD_OXYGEN, [{"event_id": "00000000-0000-4000-8000-000000000777", "patient_id": "p1",
                                  "timestamp": "2024-04-01T08:00:00Z", "data_type": "blood_oxygen", "spo2": 101}])
    proc = _run(log)

    out = [msgspec.json.decode(r.value, type=ProcessedVital) for r in _read_all(log, T.PROCESSED_HEART_RATE)]
    assert len(out) == 13 and proc.stats["duplicates"] == 1
    first = next(v for v in out if v.source_event_id.endswith("000000000000"))
    assert (first.patient_id, first.heart_rate, first.data_type) == ("p1", 130, "heart_rate")
    assert first.event_time == T0 and first.processed_timestamp == T0 + timedelta(hours=1)
    assert (first.age, first.medical_history, first.emergency_contact) == (70, "COPD", "+44 20 0000 0000")
    late = next(v for v in out if v.patient_id == "p2")
    assert late.age is None  # emitted anyway; the warehouse view joins metadata later

    dlq = [DeadLetter.from_record(r) for r in _read_all(log, T.DEAD_LETTERS)]
    assert len(dlq) == 3
    assert {d.source_topic for d in dlq} == {T.HEART_RATE, T.BLOOD_OXYGEN}
    assert all(d.stage == "process.validate" and d.error_class == "InvalidEvent" for d in dlq)
    assert any(d.value == b"not json" for d in dlq)
    assert any(d.field == "spo2" for d in dlq)

    alerts = [msgspec.json.decode(r.value, type=Alert) for r in _read_all(log, T.ALERTS)]
    tachy = [a for a in alerts if a.rule == "tachycardia"]
    assert [a.state for a in tachy] == ["raised"] and tachy[0].patient_id == "p1"
    assert tachy[0].values["heart_rate"] == 130


def test_restart_raises_no_duplicate_alert(log) -> None:
    rows = [_hr(i, "p9", 140, T0 + timedelta(seconds=10 * i)) for i in range(10)]
    _send(log, T.HEART_RATE, rows[:6])
    _run(log)
    # Simulate a crash after the flush but before the commit: rewind the group to zero.
    with log.consumer("vitalstream-processor", list(VitalsProcessor.topics)) as c:
        c.commit({tp: 0 for tp in c.assignment()})
    _send(log, T.HEART_RATE, rows[6:])
    _run(log)
    alerts = [msgspec.json.decode(r.value, type=Alert) for r in _read_all(log, T.ALERTS)]
    assert [a.state for a in alerts if a.rule == "tachycardia"] == ["raised"]


def test_simulated_stream_all_sources(log) -> None:
    n = 0
    for profile in ("vitals", "device", "heart-rate", "smartwatch"):  # notes: their own stage
        sim = make(profile, patients=10, seed=1)
        msgs = list(sim.reference()) + list(itertools.islice(sim.events(), 2000))
        with log.producer() as p:
            for m in msgs:
                p.send(m.topic, m.value, key=m.key, timestamp_ms=m.timestamp_ms)
        n += len(msgs)
    proc = _run(log)
    assert proc.stats["in"] == n
    assert proc.stats["dead_letters"] == 0
    device = _read_all(log, T.BP_DEVICE)
    assert device and all(b"systolic" in r.value and b"heart_rate" not in r.value for r in device)
    sw = [msgspec.json.decode(r.value, type=ProcessedVital) for r in _read_all(log, T.PROCESSED_SMARTWATCH)]
    assert sw and all(v.user_id is not None for v in sw)
    assert _read_all(log, T.NEWS2)


def test_news2_one_score_per_minute_sent_again_when_it_changes(log) -> None:
    from vitalstream.events.canonical import News2Score

    # 150 s of a steady pulse, then a jump into the 111-130 band (sub-score 2).
    rows = [_hr(i, "p5", 72, T0 + timedelta(seconds=i)) for i in range(150)]
    rows += [_hr(1000 + i, "p5", 120, T0 + timedelta(seconds=150 + i)) for i in range(5)]
    _send(log, T.HEART_RATE, rows)
    stop = threading.Event()
    proc = VitalsProcessor(log, clock=ManualClock(T0 + timedelta(hours=1)), stop=stop)
    run_worker(log, proc, stop, until_idle=True, max_wait_s=0.05, max_records=10)  # ~16 batches
    scores = [msgspec.json.decode(r.value, type=News2Score) for r in _read_all(log, T.NEWS2)]
    # minutes 8:00, 8:01 and 8:02; 8:02 sent again when the jump changed it
    assert [s.event_time for s in scores] == [T0 + timedelta(minutes=m) for m in (0, 1, 2, 2)]
    assert [s.subscores["heart_rate"] for s in scores] == [0, 0, 0, 2]
    assert scores[2].score_id == scores[3].score_id
    assert all(s.partial and "respiratory_rate" in s.missing for s in scores)
