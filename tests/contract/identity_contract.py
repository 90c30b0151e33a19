"""Event identity under hostile input, over the whole pipeline (embedded log -> processor ->
warehouse), run against every warehouse backend.

A backend's test module subclasses :class:`IdentityContract` and provides ``warehouse_url``
(an empty warehouse only this test uses). The attacks: a client for patient B reuses patient
A's ``event_id``; patient A's client repeats an id with a different value; a client retries
the exact same event.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.clinical import ManualClock
from vitalstream.deadletter import DeadLetter
from vitalstream.events.canonical import Alert
from vitalstream.events.ids import scoped_event_id
from vitalstream.log import Log, open_log
from vitalstream.processing import VitalsProcessor
from vitalstream.runtime import run_worker
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse

T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
A, B = "patient-a", "patient-b"
X = "0f8fad5b-d9cb-469f-a165-70867728950e"  # the id patient B's client reuses
Y = "6c84fb90-12c4-11e1-840d-7b25c5ee775a"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def heart_rate(pid: str, hr: int, t: datetime = T0, event_id: str = X) -> bytes:
    return json.dumps({"event_id": event_id, "patient_id": pid, "timestamp": _iso(t),
                       "data_type": "heart_rate", "heart_rate": hr}).encode()


def fall(pid: str, fell: bool, t: datetime, event_id: str = Y) -> bytes:
    return json.dumps({"event_id": event_id, "patient_id": pid, "timestamp": _iso(t),
                       "data_type": "fall_detection", "fall_detected": fell}).encode()


class Pipeline:
    def __init__(self, log: Log, warehouse_url: str) -> None:
        self.log = log
        self.warehouse_url = warehouse_url
        self.stats: list[dict[str, int]] = []

    def send(self, topic: str, pid: str, *values: bytes) -> None:
        with self.log.producer() as p:
            for v in values:
                p.send(topic, v, key=pid.encode())
            p.flush()

    def run(self) -> dict[str, int]:
        """One processor lifetime, then the warehouse sink, both until idle."""
        stop = threading.Event()
        proc = VitalsProcessor(self.log, clock=ManualClock(T0 + timedelta(hours=1)), stop=stop)
        run_worker(self.log, proc, stop, until_idle=True, max_wait_s=0.05)
        sink = WarehouseSink(open_warehouse(self.warehouse_url))
        run_worker(self.log, sink, threading.Event(), until_idle=True, max_wait_s=0.05)
        self.stats.append(dict(proc.stats))
        return self.stats[-1]

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with open_warehouse(self.warehouse_url, read_only=True) as wh:
            return wh.rows(sql, params or [])

    def read(self, topic: str) -> list:
        with self.log.consumer(f"check-{topic}-{len(self.stats)}", [topic]) as c:
            out = []
            while batch := c.poll(timeout=0.3):
                out += batch
            return out


class IdentityContract:
    @pytest.fixture
    def pipeline(self, tmp_path, warehouse_url):
        log = open_log(f"sqlite:///{tmp_path}/log.db")
        T.ensure_all(log)
        yield Pipeline(log, warehouse_url)
        log.close()

    def test_another_patients_event_id_touches_nothing_of_theirs(self, pipeline) -> None:
        pipeline.send(T.HEART_RATE, A, heart_rate(A, 61))
        pipeline.run()
        pipeline.send(T.HEART_RATE, B, heart_rate(B, 190, T0 + timedelta(seconds=5)))
        stats = pipeline.run()
        rows = pipeline.rows("SELECT patient_id, heart_rate, event_id, source_event_id "
                             "FROM processed_heart_rate_data ORDER BY patient_id")
        assert rows == [
            {"patient_id": A, "heart_rate": 61, "event_id": scoped_event_id(A, X), "source_event_id": X},
            {"patient_id": B, "heart_rate": 190, "event_id": scoped_event_id(B, X), "source_event_id": X},
        ]
        assert stats.get("conflicts", 0) == 0 and stats.get("duplicates", 0) == 0
        assert pipeline.read(T.DEAD_LETTERS) == []

    def test_same_id_different_content_is_a_dead_letter_and_the_first_stands(self, pipeline) -> None:
        later = T0 + timedelta(seconds=30)
        pipeline.send(T.HEART_RATE, A, heart_rate(A, 61), heart_rate(A, 190))
        # a later "fall" under a fall-free reading's id: a clinical rule would raise on it
        pipeline.send(T.FALL_DETECTION, A, fall(A, False, T0), fall(A, True, later))
        # control: a genuine fall of another patient does raise (the rule is live)
        pipeline.send(T.FALL_DETECTION, B, fall(B, True, later))
        stats = pipeline.run()

        assert stats["conflicts"] == 2 and stats.get("duplicates", 0) == 0
        assert pipeline.rows("SELECT heart_rate FROM processed_heart_rate_data") == [{"heart_rate": 61}]
        assert pipeline.rows("SELECT patient_id, fall_detected FROM processed_fall_detection_data "
                             "ORDER BY patient_id") == [{"patient_id": A, "fall_detected": False},
                                                        {"patient_id": B, "fall_detected": True}]
        dead = [DeadLetter.from_record(r) for r in pipeline.read(T.DEAD_LETTERS)]
        assert [(d.reason, d.stage, d.field, d.source_topic) for d in dead] == [
            ("conflicting duplicate", "process.dedup", "event_id", T.HEART_RATE),
            ("conflicting duplicate", "process.dedup", "event_id", T.FALL_DETECTION)]
        assert dead[0].value == heart_rate(A, 190) and dead[0].key == A.encode()
        assert pipeline.rows("SELECT reason, source_topic FROM dead_letters ORDER BY dlq_offset") == [
            {"reason": "conflicting duplicate", "source_topic": T.HEART_RATE},
            {"reason": "conflicting duplicate", "source_topic": T.FALL_DETECTION}]
        # the clinical rules never saw the conflicting reading
        alerts = [msgspec.json.decode(r.value, type=Alert) for r in pipeline.read(T.ALERTS)]
        assert [(a.patient_id, a.rule) for a in alerts] == [(B, "fall")]

    def test_exact_repeat_is_idempotent_without_dead_letter(self, pipeline) -> None:
        pipeline.send(T.HEART_RATE, A, heart_rate(A, 61), heart_rate(A, 61))
        stats = pipeline.run()
        assert stats["duplicates"] == 1 and stats.get("conflicts", 0) == 0
        # after a restart the processor's memory is empty: the repeat reaches the warehouse,
        # which keeps one row
        pipeline.send(T.HEART_RATE, A, heart_rate(A, 61))
        pipeline.run()
        assert pipeline.rows("SELECT heart_rate, source_event_id FROM processed_heart_rate_data") == [
            {"heart_rate": 61, "source_event_id": X}]
        assert pipeline.read(T.DEAD_LETTERS) == []

    def test_after_a_restart_the_warehouse_still_keeps_the_first_reading(self, pipeline) -> None:
        pipeline.send(T.HEART_RATE, A, heart_rate(A, 61))
        pipeline.run()
        pipeline.send(T.HEART_RATE, A, heart_rate(A, 190))  # a new processor has not seen X
        pipeline.run()
        assert pipeline.rows("SELECT heart_rate FROM processed_heart_rate_data") == [{"heart_rate": 61}]
