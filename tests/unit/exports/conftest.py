"""A small warehouse with vitals, NEWS2 scores, metadata and notes full of (synthetic) PHI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from vitalstream.sinks.warehouse import open_warehouse

T0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
CONTACT = "Ana Okonkwo (spouse) +1-555-0142"
NOTE = ("Seen with Ana Okonkwo on 03/28/2024; call 555-867-5309 or ana.okonkwo@example.org. "
        "Lives at 42 Willow Creek Road, Springfield, IL 62704. MRN 00123456. Prescribed metformin 500 mg.")


def _vital(event_id: str, patient: str, minutes: int, source: str = "vitals", **values: object) -> bytes:
    doc = {"event_id": event_id, "patient_id": patient, "source": source, "data_type": "x",
           "event_time": (T0 + timedelta(minutes=minutes)).isoformat(), "original_timestamp": "raw",
           "processed_timestamp": (T0 + timedelta(minutes=minutes, seconds=1)).isoformat(), **values}
    return json.dumps(doc).encode()


@pytest.fixture
def warehouse_url(tmp_path) -> str:
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    with open_warehouse(url) as wh:
        wh.migrate()
        wh.upsert({
            "processed_heart_rate_data": [
                _vital("evt-001", "patient-0001", 0, heart_rate=72, age=93, emergency_contact=CONTACT,
                       latitude=52.52, longitude=13.405),
                _vital("evt-002", "patient-0001", 5, heart_rate=75)],
            "processed_blood_pressure_data": [_vital("evt-003", "patient-0001", 0, systolic=128, diastolic=84)],
            "processed_blood_oxygen_data": [_vital("evt-004", "patient-0002", 0, spo2=97)],
            "temperature_device": [_vital("evt-005", "DEV-7", 0, "device", temperature_c=37.2, device_id="DEV-7")],
            "smartwatch_events": [_vital("evt-006", "patient-0002", 0, "smartwatch", heart_rate=80, steps=120,
                                         device_id="W-1"),
                                  _vital("evt-007", "patient-0002", 60, "smartwatch", heart_rate=82, steps=300,
                                         device_id="W-1")],
            "news2_scores": [json.dumps({
                "score_id": "score-001", "patient_id": "patient-0001", "total": 3, "band": "low-medium",
                "subscores": {"heart_rate": 0, "systolic": 0, "spo2": 3}, "partial": True, "scale": 1,
                "missing": ["respiratory_rate", "on_oxygen", "consciousness", "temperature_c"],
                "event_time": T0.isoformat(), "computed_time": T0.isoformat()}).encode()],
            "patient_metadata": [json.dumps({
                "patient_id": "patient-0001", "age": 93, "gender": "female", "medical_history": "hypertension",
                "emergency_contact": CONTACT, "blood_type": "A+", "allergies": "none",
                "last_checkup_date": "2024-03-01", "device_id": "DEV-9"}).encode()],
            "processed_entries": [json.dumps({
                "entry_id": "note-001", "patient_id": "patient-0001", "medical_entry": NOTE,
                "timestamp": T0.isoformat(), "processed_timestamp": T0.isoformat()}).encode()],
        })
    return url
