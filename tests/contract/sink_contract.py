"""The sink contract, run over every warehouse (DuckDB, PostgreSQL) and lake (file://, s3://).

A backend's test module imports these classes and provides fixtures:

* ``warehouse_url`` — a URL of an *empty* warehouse only this test uses (``WarehouseContract``);
* ``lake_url`` — a lake root only this test uses (``LakeContract``).

Records are built by hand (``Record`` values with explicit offsets), so replays, duplicates
and rotation boundaries are exact; the fault tests run the real pipeline.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vitalstream import topics as T
from vitalstream.events.ids import scoped_event_id
from vitalstream.log.base import Log, Record
from vitalstream.reports import run_report
from vitalstream.sinks.lake import LakeSink, list_files, open_lake, read_lake, smartwatch_columns, staging_dir
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse
from vitalstream.sinks.warehouse import schema as S
from vitalstream.sinks.warehouse.schema import LATEST

T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def eid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


class Offsets:
    """Hands out consecutive offsets per (topic, partition), like a log would."""

    def __init__(self) -> None:
        self.next: dict[tuple[str, int], int] = {}

    def record(self, topic: str, doc: dict | bytes, key: str | None = None, partition: int = 0,
               ts: datetime = T0, headers: tuple = ()) -> Record:
        off = self.next.get((topic, partition), 0)
        self.next[(topic, partition)] = off + 1
        value = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return Record(topic, partition, off, key.encode() if key else None, value,
                      int(ts.timestamp() * 1000), headers)


def vital(n: int, pid: str, data_type: str, t: datetime, meta: dict | None = None, **measure) -> dict:
    doc = {"event_id": eid(n), "patient_id": pid, "source": "vitals", "event_time": iso(t),
           "data_type": data_type, "original_timestamp": iso(t),
           "processed_timestamp": iso(t + timedelta(seconds=1)), **measure}
    doc.update(meta or {})
    return doc


def metadata(pid: str, age: int, history: str = "none") -> dict:
    return {"patient_id": pid, "age": age, "gender": "F", "medical_history": history,
            "emergency_contact": f"contact of {pid}", "blood_type": "O+", "allergies": "none",
            "last_checkup_date": "2024-01-01", "device_id": f"dev-{pid}"}


# -- warehouse ----------------------------------------------------------------------------------
class WarehouseContract:
    @pytest.fixture
    def warehouse(self, warehouse_url):
        wh = open_warehouse(warehouse_url)
        wh.migrate()
        yield wh
        wh.close()

    @pytest.fixture
    def sink(self, warehouse_url):
        s = WarehouseSink(open_warehouse(warehouse_url))
        yield s
        s.close()

    def test_migrate_is_versioned_and_idempotent(self, warehouse_url) -> None:
        with open_warehouse(warehouse_url) as wh:
            assert wh.version() == 0
            assert wh.migrate() == list(range(1, LATEST + 1))
            assert wh.migrate() == []
            assert wh.version() == LATEST
            assert wh.count("processed_heart_rate_data") == 0
            rows = wh.rows("SELECT version, description FROM schema_migrations ORDER BY version")
            assert [r["version"] for r in rows] == list(range(1, LATEST + 1))

    def test_upsert_replay_first_vital_and_last_reference_wins(self, sink, warehouse) -> None:
        o = Offsets()
        batch = [o.record(T.PROCESSED_HEART_RATE, vital(i, "p1", "heart_rate", T0 + timedelta(seconds=i),
                                                         heart_rate=60 + i), "p1") for i in range(50)]
        sink.process(batch)
        sink.process(batch)  # a crash before the commit replays the batch
        assert warehouse.count("processed_heart_rate_data") == 50
        # a vital's identity is immutable: a different content for a stored id (in one batch,
        # or later) never replaces the first reading
        again = [o.record(T.PROCESSED_HEART_RATE, vital(3, "p1", "heart_rate", T0, heart_rate=99), "p1"),
                 o.record(T.PROCESSED_HEART_RATE, vital(3, "p1", "heart_rate", T0, heart_rate=101), "p1")]
        sink.process(again)
        fresh = [o.record(T.PROCESSED_HEART_RATE, vital(77, "p1", "heart_rate", T0, heart_rate=hr), "p1")
                 for hr in (80, 81)]
        sink.process(fresh)
        rows = warehouse.rows("SELECT event_id, heart_rate, event_time FROM processed_heart_rate_data "
                              "WHERE event_id IN (?, ?) ORDER BY event_id", [eid(3), eid(77)])
        assert [(r["event_id"], r["heart_rate"]) for r in rows] == [(eid(3), 63), (eid(77), 80)]
        assert rows[0]["event_time"] == T0 + timedelta(seconds=3)
        assert warehouse.count("processed_heart_rate_data") == 51
        # reference data changes over time: the latest record of a key wins
        sink.process([o.record(T.PATIENT_METADATA, metadata("p1", 70), "p1"),
                      o.record(T.PATIENT_METADATA, metadata("p1", 71), "p1")])
        sink.process([o.record(T.PATIENT_METADATA, metadata("p1", 72, "COPD"), "p1")])
        assert warehouse.rows("SELECT age, medical_history FROM patient_metadata") == [
            {"age": 72, "medical_history": "COPD"}]

    def test_scoped_event_id_sql_equals_python(self, warehouse) -> None:
        pairs = [("p1", eid(1)), ("pätient", "e\u0301v"), ("a\x1fb", "c"), ("a", "b\x1fc"), ("", "x")]
        for pid, client in pairs:
            sql = S.scoped_event_id_sql(warehouse.dialect, "t.p", "t.c")
            got = warehouse.query(f"SELECT {sql} FROM (SELECT ? AS p, ? AS c) t", [pid, client])[1][0][0]
            assert got == scoped_event_id(pid, client), (pid, client)
        assert len({scoped_event_id(p, c) for p, c in pairs}) == len(pairs)

    def test_migrates_a_version_1_warehouse(self, warehouse_url) -> None:
        """A warehouse made before event ids were scoped: client ids as keys, no
        source_event_id column. Migrating moves seed-0 rows (and the alerts that point to them)
        to the scoped ids, so a re-processed old event lands on its old row."""
        with open_warehouse(warehouse_url) as wh:
            old = [dataclasses.replace(t, columns=tuple(c for c in t.columns if c.name != "source_event_id"))
                   for t in S.TABLES]
            for t in old:
                wh.query(S.create_table_sql(t, wh.dialect))
            wh.query(S.migrations_table_sql(wh.dialect))
            wh.query("INSERT INTO schema_migrations VALUES (1, 'v1', now())")
            insert = ("INSERT INTO {} (event_id, patient_id, source, data_type, event_time, heart_rate) "
                      "VALUES (?, ?, ?, 'heart_rate', ?, ?)")
            wh.query(insert.format("processed_heart_rate_data"), [eid(1), "pätient", "vitals", T0, 61])
            wh.query(insert.format("heart_rate_device"), [eid(2), "d1", "device", T0, 70])
            wh.query("INSERT INTO alerts (alert_id, patient_id, rule, severity, state, event_time, "
                     "raise_time, event_id) VALUES ('a1', 'pätient', 'bradycardia', 'low', 'raised', ?, ?, ?)",
                     [T0, T0, eid(1)])
            assert wh.version() == 1
            assert wh.migrate() == list(range(2, LATEST + 1))
            assert wh.rows("SELECT event_id, source_event_id, heart_rate FROM processed_heart_rate_data") == [
                {"event_id": scoped_event_id("pätient", eid(1)), "source_event_id": eid(1), "heart_rate": 61}]
            assert wh.rows("SELECT event_id, source_event_id FROM heart_rate_device") == [
                {"event_id": eid(2), "source_event_id": None}]  # derived ids already carry their source
            assert wh.rows("SELECT event_id FROM alerts") == [{"event_id": scoped_event_id("pätient", eid(1))}]
            assert wh.rows("SELECT source_event_id, heart_rate FROM v_heart_rate") == [
                {"source_event_id": eid(1), "heart_rate": 61}]
            assert wh.migrate() == []
        # the same event, processed again by the new pipeline, lands on the same row
        sink = WarehouseSink(open_warehouse(warehouse_url))
        doc = vital(1, "pätient", "heart_rate", T0, heart_rate=61)
        doc.update(event_id=scoped_event_id("pätient", eid(1)), source_event_id=eid(1))
        sink.process([Offsets().record(T.PROCESSED_HEART_RATE, doc, "pätient")])
        sink.close()
        with open_warehouse(warehouse_url) as wh:
            assert wh.count("processed_heart_rate_data") == 1

    def test_migrate_adds_a_declared_column_an_old_table_lacks(self, warehouse) -> None:
        warehouse.query('ALTER TABLE patient_metadata DROP COLUMN "device_id"')
        assert warehouse.migrate() == []
        sink = WarehouseSink(warehouse)
        sink.process([Offsets().record(T.PATIENT_METADATA, metadata("p1", 70), "p1")])
        assert warehouse.rows("SELECT device_id FROM patient_metadata") == [{"device_id": "dev-p1"}]

    def test_every_table_loads(self, sink, warehouse) -> None:
        o = Offsets()
        alert = {"alert_id": "a1", "patient_id": "p1", "rule": "low_spo2", "severity": "high",
                 "state": "raised", "values": {"spo2": 85}, "event_time": iso(T0),
                 "raise_time": iso(T0), "event_id": eid(1), "message": "SpO2 85 %"}
        score = {"patient_id": "p1", "total": 5, "band": "medium", "subscores": {"spo2": 3},
                 "missing": ["respiration_rate"], "partial": True, "scale": 1,
                 "event_time": iso(T0), "computed_time": iso(T0), "score_id": "s1"}
        dlq_headers = (("dlq.stage", b"process.validate"), ("dlq.error_class", b"InvalidEvent"),
                       ("dlq.reason", b"spo2 must be <= 100"), ("dlq.source_topic", b"blood-oxygen-data"),
                       ("dlq.source_partition", b"2"), ("dlq.source_offset", b"7"), ("dlq.time", b"1711958400000"))
        records = [
            o.record(T.PATIENT_METADATA, metadata("p1", 70), "p1"),
            o.record(T.HR_USERS, {"userid": "10001", "fname": "A", "lname": "B", "dob": "19500101", "sex": "F",
                                  "height": "160.5", "weight": "60", "blood_type": "A+", "race": "x",
                                  "origin_country_code": "GB", "origin_country_name": "UK", "address": "1 St",
                                  "address_country_code": "GB", "address_country_name": "UK",
                                  "last_update": "2024-01-01T00:00:00Z"}, "10001"),
            o.record(T.HR_ACTIVITIES, {"activity_id": 20001, "activity_name": "Running",
                                       "last_update": "2024-01-01T00:00:00Z"}, "20001"),
            o.record(T.USER_PROFILES, {"device_id": "w1", "user_id": "u1", "age": 40, "gender": "M"}, "w1"),
            o.record(T.USER_PROFILES, b"not json", "w2"),  # invalid reference data: left out
            o.record(T.ALERTS, alert, "p1"),
            o.record(T.NEWS2, score, "p1"),
            o.record(T.DEAD_LETTERS, b"\xff\x00binary", "p9", headers=dlq_headers),
            o.record(T.PROCESSED_ENTRIES, {"patient_id": "p1", "medical_entry": "signs of flu",
                                           "timestamp": iso(T0), "processed_timestamp": iso(T0)}, "p1"),
            o.record(T.PROCESSED_ENTRIES, {"patient_id": "p1", "medical_entry": "signs of flu",
                                           "timestamp": iso(T0), "processed_timestamp": iso(T0 + timedelta(1))}, "p1"),
            o.record(T.PROCESSED_SMARTWATCH, vital(5, "w1", "smartwatch", T0, {"user_id": "u1"}, steps=12,
                                                    sleeping=True, heart_rate=55), "w1"),
            o.record(T.BP_DEVICE, vital(6, "d1", "blood_pressure", T0, systolic=120, diastolic=80,
                                        latitude=51.5, longitude=-0.1), "d1"),
        ]
        sink.process(records)
        counts = {t: warehouse.count(t) for t in (
            "patient_metadata", "users", "activities", "user_profiles", "alerts", "news2_scores",
            "dead_letters", "processed_entries", "smartwatch_events", "blood_pressure_device")}
        assert counts == {"patient_metadata": 1, "users": 1, "activities": 1, "user_profiles": 1,
                          "alerts": 1, "news2_scores": 1, "dead_letters": 1, "processed_entries": 1,
                          "smartwatch_events": 1, "blood_pressure_device": 1}
        assert sink.skipped == 1
        u = warehouse.rows("SELECT userid, height, last_update FROM users")[0]
        assert u == {"userid": 10001, "height": 160.5, "last_update": datetime(2024, 1, 1, tzinfo=UTC)}
        d = warehouse.rows("SELECT stage, source_topic, source_offset, value, value_base64 FROM dead_letters")[0]
        assert d["stage"] == "process.validate" and d["source_topic"] == "blood-oxygen-data"
        # the payload (PHI) stays on the dlq-topic unless warehouse_dead_letter_payloads is on
        assert d["source_offset"] == 7 and d["value"] is None and d["value_base64"] is None
        sw = warehouse.rows("SELECT user_id, steps, sleeping, heart_rate FROM smartwatch_events")[0]
        assert sw == {"user_id": "u1", "steps": 12, "sleeping": True, "heart_rate": 55}
        a = warehouse.rows("SELECT rule, severity, message FROM alerts")[0]
        assert a == {"rule": "low_spo2", "severity": "high", "message": "SpO2 85 %"}

    def test_bad_value_is_left_out_not_fatal(self, sink, warehouse) -> None:
        o = Offsets()
        good = vital(1, "p1", "heart_rate", T0, heart_rate=70)
        bad = vital(2, "p1", "heart_rate", T0, heart_rate=70)
        bad["event_time"] = "not a time"
        sink.process([o.record(T.PROCESSED_HEART_RATE, good, "p1"), o.record(T.PROCESSED_HEART_RATE, bad, "p1")])
        rows = warehouse.rows("SELECT event_id, event_time FROM processed_heart_rate_data ORDER BY event_id")
        # PostgreSQL rejects the value (the record is left out and counted); DuckDB's JSON
        # reader loads what it cannot convert as NULL. Either way the sink goes on.
        assert rows[0] == {"event_id": eid(1), "event_time": T0}
        assert (rows[1:] == [] and sink.skipped == 1) or rows[1:] == [{"event_id": eid(2), "event_time": None}]

    def test_vitals_reports_boundaries_and_late_metadata(self, sink, warehouse) -> None:
        o = Offsets()
        t = [T0 + timedelta(minutes=i) for i in range(20)]
        records = [
            o.record(T.PATIENT_METADATA, metadata("old", 66, "COPD"), "old"),
            o.record(T.PATIENT_METADATA, metadata("edge", 65), "edge"),
            # spo2 boundary: 89 reported, 90 not
            o.record(T.PROCESSED_BLOOD_OXYGEN, vital(1, "old", "blood_oxygen", t[1], spo2=89), "old"),
            o.record(T.PROCESSED_BLOOD_OXYGEN, vital(2, "old", "blood_oxygen", t[2], spo2=90), "old"),
            o.record(T.PROCESSED_BLOOD_OXYGEN, vital(3, "late", "blood_oxygen", t[3], spo2=80), "late"),
            # heart rate boundaries: 59 and 101 reported, 60 and 100 not
            *(o.record(T.PROCESSED_HEART_RATE, vital(10 + i, "old", "heart_rate", t[4 + i], heart_rate=hr), "old")
              for i, hr in enumerate((59, 60, 100, 101))),
            # falls: age 66 reported, 65 not; no fall not reported; late metadata (age 80) reported
            o.record(T.PROCESSED_FALL_DETECTION, vital(20, "old", "fall_detection", t[10], fall_detected=True), "old"),
            o.record(T.PROCESSED_FALL_DETECTION, vital(21, "edge", "fall_detection", t[11], fall_detected=True), "edge"),
            o.record(T.PROCESSED_FALL_DETECTION, vital(22, "old", "fall_detection", t[12], fall_detected=False), "old"),
            o.record(T.PROCESSED_FALL_DETECTION, vital(23, "late", "fall_detection", t[13], fall_detected=True), "late"),
        ]
        sink.process(records)
        # before its metadata arrives, "late" has no age: not elderly
        assert [r["patient_id"] for r in run_report(warehouse, "falls-elderly")] == ["old"]
        sink.process([o.record(T.PATIENT_METADATA, metadata("late", 80, "diabetes"), "late")])

        low = run_report(warehouse, "low-oxygen")
        assert [(r["patient_id"], r["spo2"]) for r in low] == [("late", 80), ("old", 89)]
        assert low[0]["age"] == 80 and low[0]["medical_history"] == "diabetes"
        assert low[0]["emergency_contact"] == "contact of late"
        assert low[1]["medical_history"] == "COPD" and low[1]["event_time"] == t[1]

        irregular = run_report(warehouse, "irregular-heart-rate")
        assert [r["heart_rate"] for r in irregular] == [101, 59]  # newest first

        falls = run_report(warehouse, "falls-elderly")
        assert [(r["patient_id"], r["age"]) for r in falls] == [("late", 80), ("old", 66)]

        assert [r["spo2"] for r in run_report(warehouse, "low-oxygen", since=t[2])] == [80]
        assert len(run_report(warehouse, "low-oxygen", limit=1)) == 1

    def test_news2_current_and_alerts_reports(self, sink, warehouse) -> None:
        o = Offsets()

        def score(sid: str, pid: str, total: int, t: datetime) -> Record:
            return o.record(T.NEWS2, {"patient_id": pid, "total": total, "band": "low", "subscores": {},
                                      "missing": [], "partial": False, "scale": 1, "event_time": iso(t),
                                      "computed_time": iso(t), "score_id": sid}, pid)

        sink.process([score("a", "p1", 7, T0), score("b", "p1", 2, T0 + timedelta(minutes=1)),
                      score("c", "p2", 5, T0)])
        current = run_report(warehouse, "news2")
        assert [(r["patient_id"], r["total"]) for r in current] == [("p2", 5), ("p1", 2)]
        alerts = [o.record(T.ALERTS, {"alert_id": f"a{i}", "patient_id": "p1", "rule": "fever", "severity": "low",
                                      "state": "raised", "values": {"temperature_c": 38.5},
                                      "event_time": iso(T0 + timedelta(minutes=i)), "raise_time": iso(T0),
                                      "event_id": eid(i)}, "p1") for i in range(3)]
        sink.process(alerts)
        assert [r["alert_id"] for r in run_report(warehouse, "alerts")] == ["a2", "a1", "a0"]

    def test_query(self, sink, warehouse) -> None:
        o = Offsets()
        sink.process([o.record(T.PROCESSED_HEART_RATE, vital(1, "p1", "heart_rate", T0, heart_rate=70), "p1")])
        cols, rows = warehouse.query("SELECT patient_id, heart_rate FROM v_heart_rate")
        assert cols == ["patient_id", "heart_rate"] and rows == [("p1", 70)]


# -- lake ---------------------------------------------------------------------------------------
def raw_records(n: int, partitions: int = 2, per_hour: int = 25, topic: str = T.HEART_RATE) -> list[Record]:
    """``n`` raw records over ``partitions``, the event hour changing every ``per_hour`` records."""
    o = Offsets()
    out = []
    for i in range(n):
        t = T0 + timedelta(hours=i // per_hour, seconds=i % per_hour)
        doc = {"event_id": eid(i), "patient_id": f"p{i % 7}", "timestamp": iso(t),
               "data_type": "heart_rate", "heart_rate": 70}
        out.append(o.record(topic, doc, f"p{i % 7}", partition=i % partitions, ts=t,
                            headers=(("source", b"test"),) if i % 3 == 0 else ()))
    return out


TOPIC_ID = "9f3c2b1e-5d4a-4c8b-9e7f-0123456789ab"  # the log's incarnation of every topic here


def lake_sink(url: str, topics: list[str], **options: Any) -> LakeSink:
    """A lake sink whose log has one incarnation of every topic (``TOPIC_ID``)."""
    return LakeSink(url, topics, topic_id=lambda _: TOPIC_ID, **options)


def feed(sink: LakeSink, records: list[Record], batch: int) -> None:
    """Process ``records`` in batches of ``batch`` (in order within each partition)."""
    for i in range(0, len(records), batch):
        sink.process(records[i:i + batch])


def snapshot(url: str) -> dict[str, bytes]:
    loc = open_lake(url)
    out = {}
    for f in list_files(loc, T.HEART_RATE):
        if not f.staged:  # parts of the open segments depend on batching; final files do not
            out[f.path[len(loc.root):]] = loc.fs.cat_file(f.path)
    return out


class Consumed:
    """A log of a few partitions as a worker loop that commits what ``checkpoint`` returns
    sees it, for driving a buffering lake sink through crashes by hand."""

    def __init__(self, records: list[Record]) -> None:
        self.parts: dict[tuple[str, int], list[Record]] = {}
        for r in records:
            self.parts.setdefault((r.topic, r.partition), []).append(r)
        self.committed: dict[tuple[str, int], int] = {tp: 0 for tp in self.parts}

    def run(self, sink: LakeSink, polls: int, per_poll: int, *, force_at: tuple[int, ...] = (),
            crash_at: int | None = None) -> None:
        """Up to ``polls`` polls of ``per_poll`` records per partition from the committed
        positions; with ``crash_at`` the process dies after that poll's durable write and
        before its commit. ``force_at``: polls after which everything pending is written."""
        position = dict(self.committed)
        sink.assigned(set(self.parts))
        sink.checkpoint()
        for i in range(polls):
            batch = []
            for tp, rows in self.parts.items():
                batch += rows[position[tp]:position[tp] + per_poll]
                position[tp] = min(len(rows), position[tp] + per_poll)
            if batch:
                sink.process(batch)
            offsets = sink.checkpoint(force=i in force_at or not batch)
            if i == crash_at:
                return
            self.committed.update(offsets)
            if not batch:
                return


class LakeContract:
    def test_layout_names_and_exactly_once(self, lake_url) -> None:
        records = raw_records(120, partitions=2, per_hour=25)
        sink = lake_sink(lake_url, [T.HEART_RATE], rotate_records=20)
        feed(sink, records, 17)
        loc = open_lake(lake_url)
        files = [f for f in list_files(loc, T.HEART_RATE) if not f.staged]
        names = {f.path[len(loc.root):] for f in files}
        # partition 0 holds even i: hour changes after i=24 (offset 12), offsets chunk at 20
        assert f"/topics/heart-rate-data/year=2024/month=04/day=01/hour=08/heart-rate-data+0+0000000000000000000+{TOPIC_ID}.parquet" in names
        assert f"/topics/heart-rate-data/year=2024/month=04/day=01/hour=09/heart-rate-data+0+0000000000000000013+{TOPIC_ID}.parquet" in names
        assert f"/topics/heart-rate-data/year=2024/month=04/day=01/hour=09/heart-rate-data+0+0000000000000000020+{TOPIC_ID}.parquet" in names
        got = list(read_lake(lake_url, T.HEART_RATE))
        assert sorted((r.partition, r.offset) for r in got) == sorted((r.partition, r.offset) for r in records)
        by_id = {(r.partition, r.offset): r for r in records}
        for r in got:
            assert r == by_id[(r.partition, r.offset)]  # value, key, headers, timestamp as received

    def test_batching_does_not_change_files(self, lake_url) -> None:
        records = raw_records(150, partitions=3, per_hour=40)
        a, b = f"{lake_url}/a", f"{lake_url}/b"
        feed(lake_sink(a, [T.HEART_RATE], rotate_records=16), records, 7)
        feed(lake_sink(b, [T.HEART_RATE], rotate_records=16), records, 150)
        assert snapshot(a) == snapshot(b)
        assert list(read_lake(a, T.HEART_RATE)) == list(read_lake(b, T.HEART_RATE))

    def test_crash_before_commit_replays_to_identical_files(self, lake_url) -> None:
        records = raw_records(200, partitions=2, per_hour=30)
        ref, crashed = f"{lake_url}/ref", f"{lake_url}/crashed"
        feed(lake_sink(ref, [T.HEART_RATE], rotate_records=25), records, 200)
        # Run 1 processes 0..130 (in batches), but only 0..90 is "committed": then it dies.
        first = lake_sink(crashed, [T.HEART_RATE], rotate_records=25)
        feed(first, records[:90], 30)
        first.process(records[90:130])
        # Run 2 (a new process) replays from the committed position, with other batch sizes;
        # it dies again mid-way, and run 3 finishes.
        second = lake_sink(crashed, [T.HEART_RATE], rotate_records=25)
        second.assigned({(T.HEART_RATE, 0), (T.HEART_RATE, 1)})
        feed(second, records[90:150], 11)
        third = lake_sink(crashed, [T.HEART_RATE], rotate_records=25)
        feed(third, records[145:], 13)  # committed up to 145 only
        got = [(r.partition, r.offset) for r in read_lake(crashed, T.HEART_RATE)]
        assert sorted(got) == sorted((r.partition, r.offset) for r in records)
        assert len(got) == len(set(got))
        assert snapshot(crashed) == snapshot(ref)

    def test_time_window_read(self, lake_url) -> None:
        records = raw_records(100, partitions=1, per_hour=25)
        feed(lake_sink(lake_url, [T.HEART_RATE], rotate_records=1000), records, 100)
        since = int((T0 + timedelta(hours=1)).timestamp() * 1000)
        until = int((T0 + timedelta(hours=2, seconds=5)).timestamp() * 1000)
        got = list(read_lake(lake_url, T.HEART_RATE, since, until))
        assert [r.offset for r in got] == list(range(25, 55))

    def test_jsonl_format_round_trip(self, lake_url) -> None:
        records = raw_records(60, partitions=1, per_hour=20)
        odd = Record(T.HEART_RATE, 0, 60, None, b"\xff\xfe not utf-8", records[-1].timestamp_ms + 3_600_000)
        url = f"{lake_url}/j?format=jsonl"
        feed(lake_sink(url, [T.HEART_RATE], rotate_records=1000), [*records, odd], 25)
        loc = open_lake(url)
        finals = [f for f in list_files(loc, T.HEART_RATE) if not f.staged]
        assert finals and all(f.path.endswith(".jsonl") for f in finals)
        first = loc.fs.cat_file(finals[0].path).decode().splitlines()[0]
        assert json.loads(json.loads(first)["value"])["event_id"] == eid(0)
        assert list(read_lake(url, T.HEART_RATE)) == [*records, odd]

    def test_smartwatch_landing_columns(self, lake_url) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        o = Offsets()
        rows = [o.record(T.PROCESSED_SMARTWATCH, vital(i, "w1", "smartwatch", T0 + timedelta(hours=i // 2),
                                                      {"user_id": "u1", "age": 30}, steps=i, sleeping=i % 2 == 0,
                                                      heart_rate=50 + i), "w1",
                         ts=T0 + timedelta(hours=i // 2)) for i in range(4)]
        sink = lake_sink(lake_url, [T.PROCESSED_SMARTWATCH], extra_columns=smartwatch_columns)
        sink.process(rows)
        loc = open_lake(lake_url)
        final = [f for f in list_files(loc, T.PROCESSED_SMARTWATCH) if not f.staged]
        assert len(final) == 1  # the first hour closed; the second is still open (staged)
        table = pq.read_table(pa.BufferReader(loc.fs.cat_file(final[0].path)))
        assert table.column("steps").to_pylist() == [0, 1]
        assert table.column("sleeping").to_pylist() == [True, False]
        assert table.column("user_id").to_pylist() == ["u1", "u1"]
        assert table.column("event_time").to_pylist()[0] == T0

    def test_buffered_crashes_replay_to_identical_files(self, lake_url) -> None:
        """Driven by a loop that commits what ``checkpoint`` says (records wait in memory),
        polls of 7 records per partition, parts forced on some polls; the sink dies after poll
        ``crash_at`` (durable, not committed), again in the second run, and a third run
        finishes. The final files are byte-identical to one sink fed everything at once, and
        the lake holds every record once."""
        records = raw_records(180, partitions=2, per_hour=33)
        ref = f"{lake_url}/ref"
        feed(lake_sink(ref, [T.HEART_RATE], rotate_records=25), records, 180)
        for crash_at in (0, 2, 5, 9):
            url = f"{lake_url}/crashed-{crash_at}"
            log = Consumed(records)
            log.run(lake_sink(url, [T.HEART_RATE], rotate_records=25), 12, 7, force_at=(0, 2, 5, 6),
                    crash_at=crash_at)
            log.run(lake_sink(url, [T.HEART_RATE], rotate_records=25), 4, 5, force_at=(1,), crash_at=3)
            log.run(lake_sink(url, [T.HEART_RATE], rotate_records=25), 100, 11, force_at=(3,))
            got = [(r.partition, r.offset) for r in read_lake(url, T.HEART_RATE)]
            assert sorted(got) == sorted((r.partition, r.offset) for r in records), crash_at
            assert len(got) == len(set(got)), crash_at
            assert snapshot(url) == snapshot(ref), crash_at

    def test_buffered_closed_segment_left_with_parts(self, lake_url) -> None:
        """Parts of a segment, its final file written and committed, then a crash before the
        parts were removed: a restart must neither rebuild the segment from its parts (they
        hold only its beginning) nor leave them behind."""
        records = raw_records(60, partitions=1, per_hour=1000)
        log = Consumed(records)
        log.run(lake_sink(lake_url, [T.HEART_RATE], rotate_records=20), 1, 10, force_at=(0,))  # part 0..9
        # offsets 10..29: segment 0..19 closes in a final file; its part stays until the next batch
        log.run(lake_sink(lake_url, [T.HEART_RATE], rotate_records=20), 1, 20)
        assert log.committed == {(T.HEART_RATE, 0): 20}
        loc = open_lake(lake_url)
        assert len(loc.fs.ls(staging_dir(loc.root, T.HEART_RATE, 0))) == 1  # the leftover part
        log.run(lake_sink(lake_url, [T.HEART_RATE], rotate_records=20), 100, 20)
        assert [r.offset for r in read_lake(lake_url, T.HEART_RATE)] == list(range(60))
        assert [f.start for f in list_files(loc, T.HEART_RATE) if f.staged] == [40]  # the open segment


def unique() -> str:
    return uuid.uuid4().hex[:10]


# -- fault scenarios (shared by the DuckDB and PostgreSQL fault tests) ----------------------------
def _fault_docs(i: int) -> tuple[bytes, bytes, bytes, int]:
    """(key, raw seed-0 value, processed value, timestamp ms) of event ``i``."""
    t = T0 + timedelta(seconds=i // 10)
    pid = f"p{i % 97}"
    raw = {"event_id": eid(i), "patient_id": pid, "timestamp": iso(t), "data_type": "heart_rate",
           "heart_rate": 40 + i % 120}
    return (pid.encode(), json.dumps(raw).encode(),
            json.dumps(vital(i, pid, "heart_rate", t, heart_rate=40 + i % 120)).encode(),
            int(t.timestamp() * 1000))


def sink_env(home, warehouse_url: str, lake_url: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("VITALSTREAM_")}
    env.update({"VITALSTREAM_HOME": str(home), "VITALSTREAM_WAREHOUSE_URL": warehouse_url,
                "VITALSTREAM_LAKE_URL": lake_url, "VITALSTREAM_LOG_LEVEL": "WARNING"})
    return env


def start_sink(name: str, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    import sys

    return subprocess.Popen([sys.executable, "-c", "from vitalstream.cli import main; main()", "sink", name,
                             *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def produce_events(log: Log, n: int, chunk: int = 5000, pause: float = 0.0,
                   stop: threading.Event | None = None) -> None:
    import time

    with log.producer() as p:
        for start in range(0, n, chunk):
            for i in range(start, min(n, start + chunk)):
                key, raw, processed, ts = _fault_docs(i)
                p.send(T.HEART_RATE, raw, key=key, timestamp_ms=ts)
                p.send(T.PROCESSED_HEART_RATE, processed, key=key, timestamp_ms=ts)
            p.flush()
            if pause:
                time.sleep(pause)


def check_exactly_once(warehouse_url: str, lake_url: str, n: int) -> None:
    with open_warehouse(warehouse_url) as wh:
        _cols, rows = wh.query("SELECT count(*), count(DISTINCT event_id), sum(heart_rate), "
                              "min(event_id), max(event_id) FROM processed_heart_rate_data")
    expected_sum = sum(40 + i % 120 for i in range(n))
    assert tuple(rows[0]) == (n, n, expected_sum, eid(0), eid(n - 1))
    seen = [(r.partition, r.offset) for r in read_lake(lake_url, T.HEART_RATE)]
    assert len(seen) == n and len(set(seen)) == n
