"""Processed entries land in DuckDB as entries, problems and medications; the report and the
clinician's question ("which patients have active diabetes on metformin") work on them."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from vitalstream import topics as T
from vitalstream.events.notes import MedicalEntry
from vitalstream.log.base import Record
from vitalstream.notes.stage import processed_entry
from vitalstream.reports import run_report
from vitalstream.sinks.warehouse import WarehouseSink, open_warehouse

NOTES = [
    ("1", "2024-01-01 09:00", "Type 2 diabetes, on metformin 500 mg twice daily."),
    ("2", "2024-01-01 10:00", "No diabetes. Prescribed metformin 500 mg for prediabetes."),
    ("3", "2024-01-01 11:00", "Mother had diabetes. Started lisinopril 10 mg daily for hypertension."),
    ("4", "2024-01-02 08:00", "History of diabetes, well controlled on Glucophage 850 mg daily."),
]
ACTIVE_DIABETES_ON_METFORMIN = (
    "SELECT DISTINCT p.patient_id FROM note_problems p JOIN note_medications m ON m.patient_id = p.patient_id "
    "WHERE p.name LIKE '%diabetes%' AND p.assertion IN ('present', 'historical') "
    "AND m.name = 'metformin' AND m.assertion = 'present' ORDER BY 1")


def _records(extractor) -> list[Record]:
    entries = [msgspec.convert({"patient_id": p, "timestamp": t, "medical_entry": x}, MedicalEntry)
               for p, t, x in NOTES]
    found = extractor.extract_many([e.medical_entry for e in entries])
    now = datetime(2024, 1, 3, tzinfo=UTC)
    return [Record(T.PROCESSED_ENTRIES, 0, i, e.patient_id.encode(),
                   msgspec.json.encode(processed_entry(e, f, now)), 0)
            for i, (e, f) in enumerate(zip(entries, found, strict=True))]


def test_notes_tables_and_the_clinical_question(tmp_path, extractor) -> None:
    records = _records(extractor)
    with open_warehouse(f"duckdb:///{tmp_path}/wh.duckdb") as wh:
        sink = WarehouseSink(wh)
        sink.process(records)
        sink.process(records)  # a replay: upserted on entry and mention, never duplicated
        assert wh.count("processed_entries") == 4
        assert wh.count("note_problems") == 6
        assert [r["patient_id"] for r in wh.rows(ACTIVE_DIABETES_ON_METFORMIN)] == ["1", "4"]
        meds = wh.rows("SELECT patient_id, name, dose, unit, frequency FROM note_medications ORDER BY patient_id")
        assert meds[-1] == {"patient_id": "4", "name": "metformin", "dose": 850.0, "unit": "mg",
                            "frequency": "once daily"}
        rows = run_report(wh, "notes", patient="3")
        assert [(r["kind"], r["name"], r["status"]) for r in rows] == [
            ("problem", "diabetes mellitus", "family"), ("medication", "lisinopril", "active"),
            ("problem", "hypertension", "active")]
        assert rows[1]["detail"] == "10.0 mg once daily"
        newest = run_report(wh, "notes", limit=1)
        assert newest[0]["patient_id"] == "4"
