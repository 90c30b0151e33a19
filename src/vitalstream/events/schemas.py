"""Every wire schema by name, and their export as JSON Schema files."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from . import canonical, device, heartrate, notes, smartwatch, vitals

SCHEMAS: dict[str, type] = {
    "HeartRateEvent": vitals.HeartRateEvent,
    "BloodOxygenEvent": vitals.BloodOxygenEvent,
    "BloodPressureEvent": vitals.BloodPressureEvent,
    "FallDetectionEvent": vitals.FallDetectionEvent,
    "PatientMetadata": vitals.PatientMetadata,
    "HealthData": device.DeviceReading,
    "MedicalEntry": notes.MedicalEntry,
    "HeartRateReading": heartrate.HeartRateReading,
    "User": heartrate.User,
    "Activity": heartrate.Activity,
    "SmartwatchEvent": smartwatch.SmartwatchEvent,
    "SmartwatchEventLabelled": smartwatch.SmartwatchEventLabelled,
    "UserProfile": smartwatch.UserProfile,
    "Vital": canonical.Vital,
    "ProcessedVital": canonical.ProcessedVital,
    "Alert": canonical.Alert,
    "News2Score": canonical.News2Score,
}


def export_json_schemas(directory: Path) -> list[Path]:
    """Write ``<name>.schema.json`` (JSON Schema 2020-12) per schema; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in SCHEMAS.items():
        document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": name}
        document.update(msgspec.json.schema(schema))
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
