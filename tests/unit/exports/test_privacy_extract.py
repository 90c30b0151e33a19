"""``vitalstream extract``: no identifier survives, the key file stays apart, intervals hold."""

from __future__ import annotations

import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import CONTACT, T0
from vitalstream.audit import entries
from vitalstream.cli import app
from vitalstream.log import open_log
from vitalstream.privacy.extract import ExtractOptions, extract, rule_for
from vitalstream.privacy.pseudonym import Pseudonymiser
from vitalstream.privacy.surrogates import PseudonymKey, SurrogateKey
from vitalstream.sinks.warehouse import open_warehouse

IDENTIFIERS = ["patient-0001", "patient-0002", "DEV-7", "DEV-9", "W-1", "evt-001", "evt-002", "evt-003", "evt-006", "score-001",
               "Okonkwo", "Ana", "555", "0142", "example.org", "Willow", "62704", "00123456", "52.52", "13.405",
               "2024-04-01", "03/28", "2024-03-01", CONTACT]  # a shift of whole days may keep the year


def all_cells(root) -> str:
    cells = []
    for f in sorted(root.rglob("*.parquet")):
        for row in pq.read_table(f).to_pylist():
            cells += [f"{k}={v}" for k, v in row.items()]
    return "\n".join(cells)


def run(warehouse_url, out, key, dates="shift"):
    with open_warehouse(warehouse_url, read_only=True) as wh:
        return extract(wh, out, key, ExtractOptions(dates=dates))


def test_no_identifier_survives_a_deidentified_extract(warehouse_url, tmp_path) -> None:
    key = SurrogateKey()
    result = run(warehouse_url, tmp_path / "out", key)
    text = all_cells(tmp_path / "out") + (tmp_path / "out" / "manifest.json").read_text()
    survivors = [i for i in IDENTIFIERS if i.lower() in text.lower()]
    assert survivors == [], survivors
    assert {"vitals/processed_heart_rate_data", "patients", "news2_scores", "notes"} <= set(result.tables)
    assert result.patients == {key.surrogate(p) for p in ("patient-0001", "patient-0002", "DEV-7")}
    note = pq.read_table(tmp_path / "out" / "notes.parquet").to_pylist()[0]["medical_entry"]
    assert "metformin 500 mg" in note and "[NAME]" in note and "[PHONE]" in note and "[EMAIL]" in note


def test_ages_over_89_become_90_plus_and_coordinates_and_contacts_are_gone(warehouse_url, tmp_path) -> None:
    run(warehouse_url, tmp_path, SurrogateKey())
    patients = pq.read_table(tmp_path / "patients.parquet").to_pylist()
    assert [p["age"] for p in patients] == ["90+"]
    hr = pq.read_table(tmp_path / "vitals" / "processed_heart_rate_data.parquet")
    assert not {"latitude", "longitude", "emergency_contact", "event_id", "device_id", "source_event_id",
                "original_timestamp"} & set(hr.column_names)
    assert {r["age"] for r in hr.to_pylist()} == {"90+", None}  # the reading that carried an age


def test_dates_shift_per_patient_keeping_intervals(warehouse_url, tmp_path) -> None:
    key = SurrogateKey()
    run(warehouse_url, tmp_path, key)
    rows = pq.read_table(tmp_path / "vitals" / "processed_heart_rate_data.parquet").to_pylist()
    times = sorted(r["event_time"] for r in rows)
    shift = key.shift("patient-0001")
    assert shift != timedelta(0) and abs(shift.days) <= 365
    assert times == [T0 + shift, T0 + shift + timedelta(minutes=5)]  # the interval is kept
    bp = pq.read_table(tmp_path / "vitals" / "processed_blood_pressure_data.parquet").to_pylist()
    assert bp[0]["event_time"] == T0 + shift  # the same patient's shift in every table


def test_year_only_dates(warehouse_url, tmp_path) -> None:
    run(warehouse_url, tmp_path, SurrogateKey(), dates="year")
    rows = pq.read_table(tmp_path / "vitals" / "processed_heart_rate_data.parquet").to_pylist()
    assert {r["event_time"] for r in rows} == {2024}


def test_surrogates_are_random_but_stable_through_the_key_file(tmp_path) -> None:
    a, b = SurrogateKey(), SurrogateKey()
    assert a.surrogate("patient-0001") != b.surrogate("patient-0001")  # random, not derived
    a.save(tmp_path / "key.json")
    assert (tmp_path / "key.json").stat().st_mode & 0o077 == 0
    again = SurrogateKey.load(tmp_path / "key.json")
    assert again.surrogate("patient-0001") == a.surrogate("patient-0001")
    assert again.shift("patient-0001") == a.shift("patient-0001")


def test_pseudonymised_extract_is_stable_without_a_key_file(warehouse_url, tmp_path) -> None:
    key = PseudonymKey(Pseudonymiser(b"unit-test-key-0123456789", "k1"))
    run(warehouse_url, tmp_path / "a", key)
    run(warehouse_url, tmp_path / "b", key)
    assert all_cells(tmp_path / "a") == all_cells(tmp_path / "b")
    assert "k1." in all_cells(tmp_path / "a") and "patient-0001" not in all_cells(tmp_path / "a")


@pytest.mark.parametrize(("column", "sql_type", "rule"), [
    ("patient_id", "VARCHAR", "patient"), ("event_id", "VARCHAR", "drop"), ("latitude", "DOUBLE", "drop"),
    ("emergency_contact", "VARCHAR", "drop"), ("age", "INTEGER", "age"), ("event_time", "TIMESTAMP WITH TIME ZONE", "time"),
    ("medical_entry", "VARCHAR", "scrub"), ("heart_rate", "INTEGER", "keep"), ("something_new", "VARCHAR", "drop"),
])
def test_column_rules_drop_what_nobody_classified(column, sql_type, rule) -> None:
    assert rule_for(column, sql_type) == rule


def test_cli_keeps_the_key_file_apart_and_audits(warehouse_url, tmp_path) -> None:
    base = ["--home", str(tmp_path / "home"), "--warehouse-url", warehouse_url]
    runner = CliRunner()
    inside = runner.invoke(app, [*base, "extract", "--deidentify", "--out", str(tmp_path / "x"),
                                 "--key-file", str(tmp_path / "x" / "key.json")])
    assert inside.exit_code == 2 and "inside the extract" in inside.output
    res = runner.invoke(app, [*base, "extract", "--deidentify", "--out", str(tmp_path / "out"), "--actor", "bob"])
    assert res.exit_code == 0, res.output
    key = json.loads((tmp_path / "home" / "extract-keys.json").read_text())
    assert "patient-0001" in key["patients"]
    assert not list((tmp_path / "out").rglob("*key*"))
    with open_log(f"sqlite:///{tmp_path}/home/log.db") as log:
        [entry] = list(entries(log, actor="bob"))
    assert entry.subject == "export:extract" and entry.detail["patients"] == "3"
    assert entry.detail["mode"] == "surrogate"
