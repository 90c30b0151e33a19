"""One declaration per record: the processed-vital fields are declared once, in
``ProcessedVital``, and everything else agrees with it — the enrichment the processor splices,
the warehouse columns of both dialects, the views. A field added to the struct shows up
everywhere, or one of these tests fails."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import msgspec
import pytest

from vitalstream import topics as T
from vitalstream.events.canonical import (
    ENRICHMENT,
    RECORD_STAMPS,
    Alert,
    Enrichment,
    News2Score,
    ProcessedVital,
    Vital,
    enrichment_fragment,
)
from vitalstream.events.smartwatch import UserProfile
from vitalstream.events.vitals import PatientMetadata
from vitalstream.log import open_log
from vitalstream.processing import VitalsProcessor
from vitalstream.runtime import run_worker
from vitalstream.sinks.warehouse import columns
from vitalstream.sinks.warehouse import duckdb as duck
from vitalstream.sinks.warehouse import postgres as pg
from vitalstream.sinks.warehouse import schema as S

FIELDS = ProcessedVital.__struct_fields__


def test_enrichment_is_what_processed_adds_beyond_the_record_stamps() -> None:
    added = [f for f in FIELDS if f not in Vital.__struct_fields__]
    assert set(RECORD_STAMPS) <= set(added)
    assert tuple(f for f in added if f not in RECORD_STAMPS) == ENRICHMENT
    assert Enrichment.__struct_fields__ == ENRICHMENT
    # every enrichment field comes from some reference record
    assert set(ENRICHMENT) <= set(PatientMetadata.__struct_fields__) | set(UserProfile.__struct_fields__)


def test_enrichment_fragment_splices_into_a_valid_processed_record() -> None:
    meta = PatientMetadata(patient_id="p1", age=70, gender="F", medical_history="COPD",
                           emergency_contact="c", blood_type="A+", allergies="none",
                           last_checkup_date="2024-01-01", device_id="d1")
    profile = UserProfile(device_id="w1", user_id="u1", age=40, gender="M")
    base = msgspec.json.encode(Vital(event_id="e", patient_id="p1", source="vitals",
                                     event_time=datetime(2024, 4, 1, tzinfo=UTC)))
    stamps = b',"data_type":"heart_rate","original_timestamp":"x","processed_timestamp":"2024-04-01T00:00:00Z"'
    for ref, expected in ((meta, {f for f in ENRICHMENT if f != "user_id"}), (profile, {"user_id", "age", "gender"})):
        doc = base[:-1] + stamps + enrichment_fragment(ref) + b"}"
        decoded = msgspec.json.decode(doc, type=ProcessedVital)
        assert {f for f in ENRICHMENT if getattr(decoded, f) is not None} == expected
        assert all(getattr(decoded, f) == getattr(ref, f) for f in expected)
        assert "device_id" not in json.loads(doc)  # device_id is the vital's own field


def test_processor_output_has_only_declared_fields(tmp_path) -> None:
    log = open_log(f"sqlite:///{tmp_path}/log.db")
    T.ensure_all(log)
    with log.producer() as p:
        p.send(T.PATIENT_METADATA, json.dumps({
            "patient_id": "p1", "age": 70, "gender": "F", "medical_history": "COPD", "emergency_contact": "c",
            "blood_type": "A+", "allergies": "none", "last_checkup_date": "2024-01-01", "device_id": "d1"}).encode(),
            key=b"p1")
        p.send(T.HEART_RATE, json.dumps({"event_id": "e1", "patient_id": "p1", "timestamp": "2024-04-01T08:00:00Z",
                                         "data_type": "heart_rate", "heart_rate": 72}).encode(), key=b"p1")
        p.flush()
    stop = threading.Event()
    run_worker(log, VitalsProcessor(log, stop=stop), stop, until_idle=True, max_wait_s=0.05)
    with log.consumer("check", [T.PROCESSED_HEART_RATE]) as c:
        [record] = c.poll(timeout=1.0)
    log.close()
    doc = json.loads(record.value)
    assert set(doc) <= set(FIELDS)
    assert set(RECORD_STAMPS) | set(ENRICHMENT) - {"user_id"} <= set(doc)


def test_vital_tables_have_a_column_per_field_in_both_dialects() -> None:
    assert S.VITAL[0].name == "event_id"
    assert sorted(c.name for c in S.VITAL) == sorted(FIELDS)
    assert S.VITAL_TABLES and all(S.BY_TABLE[t].columns == S.VITAL for t in S.VITAL_TABLES)
    assert {t.name for t in S.TABLES if t.topic in {d.name for d in T.CATALOGUE if d.role == "processed"}} \
        == set(S.VITAL_TABLES)
    for table in S.TABLES:
        duck_sql = " ".join(duck.load_sql(table))
        pg_sql = pg.stage_sql(table) + pg.merge_sql(table)
        read = columns._parse_options(table).explicit_schema  # what Arrow's JSON reader reads
        for dialect in S.Dialect:
            create = S.create_table_sql(table, dialect)
            assert all(S.q(c.name) in create for c in table.columns)
        for c in table.columns:
            assert S.q(c.name) in duck_sql and S.q(c.name) in pg_sql
            assert c.source in read.names and columns.arrow_schema(table).field(c.name) is not None


def test_alert_and_score_tables_follow_their_structs() -> None:
    assert S.BY_TABLE["alerts"].column_names == Alert.__struct_fields__
    score = S.BY_TABLE["news2_scores"].column_names
    assert score[0] == "score_id" and sorted(score) == sorted(News2Score.__struct_fields__)
    assert {c.name: c.type for c in S.BY_TABLE["news2_scores"].columns}["subscores"] == "json"


def test_views_coalesce_exactly_the_metadata_enrichment() -> None:
    assert tuple(f for f in ENRICHMENT if f in PatientMetadata.__struct_fields__) == S._META
    for view in S.VITAL_VIEWS:
        sql = S.vital_view_sql(view)
        assert all(f"COALESCE(m.{c}, v.{c})" in sql for c in S._META)


def test_a_new_field_becomes_a_column() -> None:
    class Extended(ProcessedVital, frozen=True, kw_only=True):
        pulse_pressure: int | None = None
        tags: list[str] | None = None

    cols = {c.name: c.type for c in S.columns_of(Extended, ("event_id",))}
    assert cols["pulse_pressure"] == "int" and cols["tags"] == "json"
    assert set(cols) == set(FIELDS) | {"pulse_pressure", "tags"}
    missing = S.missing_columns(S.Dialect.POSTGRESQL, [("processed_heart_rate_data", c) for c in FIELDS
                                                        if c != "source_event_id"])
    assert missing == ['ALTER TABLE "processed_heart_rate_data" ADD COLUMN "source_event_id" TEXT']


def test_a_field_without_a_column_type_is_refused() -> None:
    class Odd(msgspec.Struct):
        blob: bytes

    with pytest.raises(TypeError, match="no column type"):
        S.columns_of(Odd)


def test_dialects_are_named_and_differ_only_where_they_must() -> None:
    assert S.Dialect.DUCKDB.sql_type("json") == "JSON" and S.Dialect.POSTGRESQL.sql_type("json") == "JSONB"
    assert S.Dialect.POSTGRESQL.bind("a = ? AND b LIKE '5%'") == "a = %s AND b LIKE '5%%'"
    assert S.Dialect.DUCKDB.bind("a = ?") == "a = ?"
    assert duck.DuckDbWarehouse.dialect is S.Dialect.DUCKDB
    assert pg.PostgresWarehouse.dialect is S.Dialect.POSTGRESQL
