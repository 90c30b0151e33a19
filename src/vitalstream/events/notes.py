"""Clinical notes: free-text medical entries on ``medical-entries`` (key ``patient_id``).

The original rows are CSV ``patient_id,medical_entry,timestamp`` with timestamps such as
``2024-01-01 12:00`` (no zone: UTC by convention). Values arrive as a JSON object; a bare CSV
row (what the original producer actually sent) is accepted too.
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Annotated

import msgspec

from .physiology import NonEmpty, as_utc, check_time

Text = Annotated[str, msgspec.Meta(max_length=20_000)]


class MedicalEntry(msgspec.Struct, frozen=True, kw_only=True):
    patient_id: NonEmpty
    medical_entry: Text
    timestamp: str  # ISO-8601 date-time; naive means UTC ("2024-01-01 12:00")

    def __post_init__(self) -> None:
        if not self.medical_entry.strip():
            raise ValueError("medical_entry: must not be empty")
        check_time(parse_time(self.timestamp))

    @property
    def event_time(self) -> datetime:
        return parse_time(self.timestamp)


def parse_time(text: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError("timestamp: not an ISO-8601 date-time") from None


def from_csv_row(value: bytes) -> MedicalEntry:
    """``1,"Patient shows signs of flu. Prescribed ibuprofen.",2024-01-01 12:00``."""
    rows = list(csv.reader(value.decode("utf-8").splitlines()))
    if len(rows) != 1 or len(rows[0]) != 3:
        raise ValueError("medical_entry: expected one CSV row patient_id,medical_entry,timestamp")
    patient_id, entry, timestamp = rows[0]
    return msgspec.convert(
        {"patient_id": patient_id, "medical_entry": entry, "timestamp": timestamp}, MedicalEntry
    )
