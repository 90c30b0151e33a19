"""``vitalstream fhir export`` over a DuckDB warehouse: files, selection, audit, idempotence."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from conftest import T0
from vitalstream.audit import entries
from vitalstream.cli import app
from vitalstream.fhir import resources as R
from vitalstream.fhir.export import Selection, export
from vitalstream.log import open_log
from vitalstream.privacy.pseudonym import Pseudonymiser
from vitalstream.sinks.warehouse import open_warehouse

SUBJECTS = R.Subjects(Pseudonymiser(b"unit-test-key-0123456789", "k1"))


def lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_ndjson_per_resource_type_and_a_bundle(warehouse_url, tmp_path) -> None:
    with open_warehouse(warehouse_url, read_only=True) as wh:
        result = export(wh, SUBJECTS, Selection(), out_dir=tmp_path / "out", bundle_file=tmp_path / "b.json")
    obs = lines(tmp_path / "out" / "Observation.ndjson")
    codes = sorted(o["code"]["coding"][0]["code"] for o in obs)
    # hr x2 + bp + spo2 + temperature + 2 smartwatch hr + 1 daily steps total + NEWS2
    assert codes == sorted(["8867-4", "8867-4", "85354-9", "2708-6", "8310-5", "8867-4", "8867-4", "41950-7",
                            "news2-total"])
    steps = next(o for o in obs if o["code"]["coding"][0]["code"] == "41950-7")
    assert steps["valueQuantity"]["value"] == 420
    patients = lines(tmp_path / "out" / "Patient.ndjson")
    assert result.patients == len(patients) == 3  # patient-0001, patient-0002, DEV-7
    assert {o["subject"]["reference"] for o in obs} == {f"Patient/{p['id']}" for p in patients}
    assert result.devices == len(lines(tmp_path / "out" / "Device.ndjson"))
    bundle = json.loads((tmp_path / "b.json").read_text())
    assert bundle["type"] == "collection" and len(bundle["entry"]) == len(obs) + len(patients) + result.devices
    assert "patient-0001" not in (tmp_path / "out" / "Patient.ndjson").read_text()


def test_re_export_gives_the_same_files(warehouse_url, tmp_path) -> None:
    with open_warehouse(warehouse_url, read_only=True) as wh:
        export(wh, SUBJECTS, Selection(), out_dir=tmp_path / "a")
        export(wh, SUBJECTS, Selection(), out_dir=tmp_path / "b")
    for name in ("Patient", "Device", "Observation"):
        assert (tmp_path / "a" / f"{name}.ndjson").read_bytes() == (tmp_path / "b" / f"{name}.ndjson").read_bytes()


def test_patient_and_time_window(warehouse_url, tmp_path) -> None:
    with open_warehouse(warehouse_url, read_only=True) as wh:
        r = export(wh, SUBJECTS, Selection(patient="patient-0001", since=T0 + timedelta(minutes=1),
                                           until=T0 + timedelta(minutes=10)), out_dir=tmp_path)
    obs = lines(tmp_path / "Observation.ndjson")
    assert r.patients == 1 and [o["effectiveDateTime"] for o in obs] == ["2024-04-01T08:05:00.000Z"]


def test_a_failed_audit_leaves_no_files(warehouse_url, tmp_path) -> None:
    def refuse(result) -> None:
        raise RuntimeError("audit log down")

    with open_warehouse(warehouse_url, read_only=True) as wh, pytest.raises(RuntimeError):
        export(wh, SUBJECTS, Selection(), out_dir=tmp_path / "out", audit=refuse)
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_export_is_audited_and_needs_a_key(warehouse_url, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VITALSTREAM_PRIVACY_PSEUDONYM_KEY", raising=False)
    base = ["--home", str(tmp_path), "--warehouse-url", warehouse_url]
    runner = CliRunner()
    no_key = runner.invoke(app, [*base, "fhir", "export", "--out", str(tmp_path / "x")])
    assert no_key.exit_code == 2 and "no pseudonym key" in no_key.output
    monkeypatch.setenv("VITALSTREAM_PRIVACY_PSEUDONYM_KEY", "cli-test-secret-key-0123456789")
    res = runner.invoke(app, [*base, "fhir", "export", "--out", str(tmp_path / "out"), "--actor", "alice"])
    assert res.exit_code == 0, res.output
    assert "cli-test-secret-key" not in res.output
    with open_log(f"sqlite:///{tmp_path}/log.db") as log:
        [entry] = list(entries(log, actor="alice"))
    assert entry.action == "export" and entry.subject == "export:fhir" and entry.detail["patients"] == "3"
